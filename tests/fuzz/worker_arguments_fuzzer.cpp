// Fuzz target: synthfarm-worker's command line, parse_worker_arguments (worker/
// worker_arguments.h). Input: the arguments after argv[0], separated by '\0'.
//
// Properties: accepted arguments are ones the worker can use (a slot the segment can have, a
// descriptor or none, a coordinator that is not init), and they read back the same from the
// command line the coordinator writes for them (coordinator/supervision/worker_launcher.cpp).

#include <string>

#include "shared/segment_layout.h"
#include "tests/fuzz/fuzz_support.h"
#include "worker/worker_arguments.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  const fuzz::FuzzedArguments arguments("synthfarm-worker", fuzz::as_text(data, size));
  const auto parsed = parse_worker_arguments(arguments.argc(), arguments.argv());
  if (const auto* message = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(message->rfind("synthfarm-worker: ", 0) == 0);
    return 0;
  }
  const WorkerArguments& accepted = std::get<WorkerArguments>(parsed);
  FUZZ_CHECK(!accepted.segment_name.empty());
  FUZZ_CHECK(accepted.segment_descriptor >= -1);
  FUZZ_CHECK(accepted.worker_index < kMaxWorkers);
  FUZZ_CHECK(accepted.coordinator_pid > 1);

  std::vector<std::string> words = {"--segment",         accepted.segment_name,
                                    "--index",           std::to_string(accepted.worker_index),
                                    "--coordinator-pid", std::to_string(accepted.coordinator_pid)};
  if (accepted.segment_descriptor >= 0) {
    words.insert(words.end(), {"--segment-fd", std::to_string(accepted.segment_descriptor)});
  }
  std::string line;
  for (const std::string& word : words) line.append(word).push_back('\0');
  line.pop_back();
  const fuzz::FuzzedArguments written("synthfarm-worker", line);
  const auto again = parse_worker_arguments(written.argc(), written.argv());
  const auto* reread = std::get_if<WorkerArguments>(&again);
  FUZZ_CHECK(reread != nullptr);
  FUZZ_CHECK(reread->segment_name == accepted.segment_name);
  FUZZ_CHECK(reread->segment_descriptor == accepted.segment_descriptor);
  FUZZ_CHECK(reread->worker_index == accepted.worker_index);
  FUZZ_CHECK(reread->coordinator_pid == accepted.coordinator_pid);
  return 0;
}
