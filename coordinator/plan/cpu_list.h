#pragma once
// --cpus LIST: which CPUs a run may use, as the user writes them ("0,1", "0-3", "0-1,6").
// Parsing is pure (fuzzed through the command line); whether the CPUs are in the process's
// allowed set is a separate check, so that tests can give any set.

#include <sched.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthfarm {

// The largest CPU number a cpu_set_t holds (glibc: 1023).
inline constexpr int kMaxCpuNumber = CPU_SETSIZE - 1;

// Thread: any. Allocates. The CPUs of `text`, in the order written, each once: comma-separated
// numbers and ascending ranges "A-B", 0 to kMaxCpuNumber. nullopt with `why` (what is wrong
// with which part) for anything else: blanks, signs, empty parts, a CPU given twice.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text, std::string& why);

// Thread: any. The first CPU of `cpus` not in `allowed`; nullopt when all are.
std::optional<int> first_cpu_not_allowed(const std::vector<int>& cpus, const cpu_set_t& allowed);

// Thread: any. "0-3,6": `allowed` as a list in parse_cpu_list's grammar, for error messages.
std::string describe_cpu_set(const cpu_set_t& allowed);

}  // namespace synthfarm
