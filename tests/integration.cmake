# Integration tests: they run the real executables as a user would, so they depend on them.
add_library(synthfarm_test_support STATIC support/child_process.cpp support/wav_file.cpp)
target_include_directories(synthfarm_test_support PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(synthfarm_test_support PUBLIC Threads::Threads PRIVATE PkgConfig::SNDFILE)
target_compile_definitions(synthfarm_test_support PUBLIC
  SYNTHFARM_BUILD_DIR="${CMAKE_BINARY_DIR}"
  SYNTHFARM_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")

foreach(test_name cli_process_test jack_output_test failure_recovery_test resource_abuse_test
                  bad_samples_test worker_failure_test device_list_test control_client_test
                  everyday_use_test worker_process_test)
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${test_name}.cpp)
    continue()
  endif()
  add_executable(${test_name} ${test_name}.cpp)
  target_link_libraries(${test_name} PRIVATE synthfarm_test_support synthfarm_coordinator synthfarm_worker
                        GTest::gtest_main PkgConfig::SNDFILE PkgConfig::JACK
                        nlohmann_json::nlohmann_json synthfarm_warnings)
  add_dependencies(${test_name} synthfarm synthfarm-worker)
  # The JACK tests share one server and measure its callback rate: never two at once.
  gtest_discover_tests(${test_name} DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120
                       RESOURCE_LOCK synthfarm_audio_server)
endforeach()
