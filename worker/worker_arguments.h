#pragma once
// synthfarm-worker's command line. The coordinator writes it; people never need to.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>

namespace synthfarm {

struct WorkerArguments {
  std::string segment_name;     // Boost.Interprocess name of the segment (and for messages)
  int segment_descriptor = -1;  // inherited descriptor of the segment; used instead of the name
  std::uint32_t worker_index = 0;
  pid_t coordinator_pid = 0;  // the worker leaves when its parent is no longer this process
};

// Thread: main, at start-up. Pure: returns the arguments, or a message for stderr. Each option
// once, as `--option VALUE` or `--option=VALUE`; numbers in decimal digits only.
std::variant<WorkerArguments, std::string> parse_worker_arguments(int argc,
                                                                  const char* const argv[]);

}  // namespace synthfarm
