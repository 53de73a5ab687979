# What `cmake --install` puts where, under any --prefix and with DESTDIR honoured:
#   bin/synthfarm, bin/synthfarm-bench                  the programs people run
#   libexec/synthfarm/synthfarm-worker                  the worker, which only synthfarm starts
#   share/man/man1/synthfarm.1.gz, synthfarm-bench.1.gz generated from --help by help2man
#   share/bash-completion/completions/synthfarm         (and synthfarm-bench, a link to it)
#   share/doc/synthfarm/                                README.md, docs/, copyright, changelog.gz
#
# libexec/synthfarm/, not lib/synthfarm/: FHS 3.0 (which Debian Policy 9.1.1 adopts) made
# /usr/libexec the place for "internal binaries that are not intended to be executed directly by
# users", CMake's GNUInstallDirs names it on Debian, and the directory holds nothing but the
# worker. synthfarm finds it relative to its own executable (worker_executable_path()), so the
# installed tree can be moved to any prefix as a whole.
include(GNUInstallDirs)

set(SYNTHFARM_WORKER_INSTALL_DIR "${CMAKE_INSTALL_LIBEXECDIR}/synthfarm")
# worker_executable_path() looks in ../libexec/synthfarm/ from the coordinator's directory.
file(RELATIVE_PATH worker_from_coordinator "${CMAKE_INSTALL_FULL_BINDIR}"
     "${CMAKE_INSTALL_FULL_LIBEXECDIR}/synthfarm")
if(NOT worker_from_coordinator STREQUAL "../libexec/synthfarm")
  message(FATAL_ERROR
    "synthfarm: the installed synthfarm finds its worker in ../libexec/synthfarm/ beside its "
    "bin/ directory, but CMAKE_INSTALL_BINDIR='${CMAKE_INSTALL_BINDIR}' and "
    "CMAKE_INSTALL_LIBEXECDIR='${CMAKE_INSTALL_LIBEXECDIR}' would put it at "
    "'${worker_from_coordinator}'; leave both at their defaults (bin, libexec) and choose the "
    "place with CMAKE_INSTALL_PREFIX or cmake --install --prefix")
endif()

# Installed directories are 0755 whatever the umask (lintian: non-standard-dir-perm).
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(TARGETS synthfarm RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS synthfarm-worker RUNTIME DESTINATION "${SYNTHFARM_WORKER_INSTALL_DIR}")
if(TARGET synthfarm-bench)
  # It runs the synthfarm beside it, which bin/ is.
  install(TARGETS synthfarm-bench RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()

# --- Manual pages: generated from --help at build time, so they never fall behind it.
find_program(SYNTHFARM_GZIP gzip REQUIRED)
option(SYNTHFARM_MAN_PAGES "Generate and install the manual pages (needs help2man)" ON)
set(SYNTHFARM_MAN_DIR "${CMAKE_BINARY_DIR}/man")
if(SYNTHFARM_MAN_PAGES)
  find_program(SYNTHFARM_HELP2MAN help2man)
  if(NOT SYNTHFARM_HELP2MAN)
    message(FATAL_ERROR
      "synthfarm: help2man not found; the manual pages are generated from --help with it. "
      "Install it (apt-get install help2man; scripts/run and scripts/test do), or configure with "
      "-DSYNTHFARM_MAN_PAGES=OFF to build without manual pages")
  endif()

  # synthfarm_man_page(TARGET): man/TARGET.1.gz from TARGET's --help (rearranged by
  # help-for-man) and scripts/packaging/man/TARGET.h2m (what --help lacks).
  function(synthfarm_man_page target)
    set(page "${SYNTHFARM_MAN_DIR}/${target}.1")
    set(include "${PROJECT_SOURCE_DIR}/scripts/packaging/man/${target}.h2m")
    set(filter "${PROJECT_SOURCE_DIR}/scripts/packaging/help-for-man")
    add_custom_command(
      OUTPUT "${page}.gz"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${SYNTHFARM_MAN_DIR}"
      # help2man runs its EXECUTABLE argument through the shell: the filter and the program it
      # asks, each quoted. The version string keeps --version's machine-specific lines (the
      # CPU's instruction sets) out of the page.
      COMMAND "${SYNTHFARM_HELP2MAN}" --no-info --section=1
              "--version-string=${target} ${PROJECT_VERSION}" "--include=${include}"
              "--output=${page}" "'${filter}' '$<TARGET_FILE:${target}>'"
      # -n: no name or time stamp inside, so that the same page compresses to the same bytes.
      COMMAND "${SYNTHFARM_GZIP}" -9nf "${page}"
      DEPENDS ${target} "${include}" "${filter}"
      COMMENT "Generating the manual page ${target}(1) from ${target} --help"
      VERBATIM)
    set_property(GLOBAL APPEND PROPERTY SYNTHFARM_MAN_PAGES "${page}.gz")
  endfunction()

  synthfarm_man_page(synthfarm)
  if(TARGET synthfarm-bench)
    synthfarm_man_page(synthfarm-bench)
  endif()
  get_property(man_pages GLOBAL PROPERTY SYNTHFARM_MAN_PAGES)
  add_custom_target(synthfarm_man_pages ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
endif()

# --- Bash completion, where bash-completion loads it on first use of the command's name.
set(SYNTHFARM_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions")
install(FILES scripts/completion/synthfarm DESTINATION "${SYNTHFARM_COMPLETION_DIR}")
if(TARGET synthfarm-bench)
  # One file completes both; bash-completion looks for a file named after the command.
  install(CODE "
    set(link \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SYNTHFARM_COMPLETION_DIR}/synthfarm-bench\")
    message(STATUS \"Installing: \${link} -> synthfarm\")
    file(CREATE_LINK synthfarm \"\${link}\" SYMBOLIC)")
endif()

# --- Documentation, in the layout README.md's links expect (docs/ beside it), plus what every
# Debian package carries in its doc directory: copyright (plain) and changelog.gz.
install(FILES README.md scripts/packaging/copyright DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY docs/ DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs")
set(changelog "${CMAKE_BINARY_DIR}/packaging/changelog.gz")
add_custom_command(
  OUTPUT "${changelog}"
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${CMAKE_BINARY_DIR}/packaging"
  COMMAND "${CMAKE_COMMAND}" -E copy "${PROJECT_SOURCE_DIR}/scripts/packaging/changelog"
          "${CMAKE_BINARY_DIR}/packaging/changelog"
  COMMAND "${SYNTHFARM_GZIP}" -9nf "${CMAKE_BINARY_DIR}/packaging/changelog"
  DEPENDS scripts/packaging/changelog
  COMMENT "Compressing the changelog"
  VERBATIM)
add_custom_target(synthfarm_changelog ALL DEPENDS "${changelog}")
install(FILES "${changelog}" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# The changelog's newest entry names the version being packaged (lintian checks they agree).
file(STRINGS scripts/packaging/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^synthfarm \\(${PROJECT_VERSION}\\) ")
  message(WARNING
    "synthfarm: scripts/packaging/changelog starts with '${changelog_head}' but the project is "
    "version ${PROJECT_VERSION}: add an entry for ${PROJECT_VERSION} at its top")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/debian_package.cmake")
