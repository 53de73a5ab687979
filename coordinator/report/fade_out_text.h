#pragma once
// The line that says whether a live run's fade-out was played, after its teardown. A pure
// formatter like status_text.h: plain values in, one whole line out; the caller prints it.
// Scripts and tests read it: change a word only with them.

#include <cstdint>
#include <string>

namespace synthfarm {

// One line and the stream it belongs on.
struct ConsoleLine {
  bool to_stderr = false;
  std::string text;  // ends in a newline
};

// Thread: any. Allocates. `faded`: the master reached silence; `buffers_after_fade`: how many
// buffers the output asked for after that; `interrupted`: a second signal cut the wait short;
// `buffers_needed`: how many buffers after the fade mean it was played, not only computed.
//   synthfarm: fade-out cut short by a second signal                          (stdout)
//   synthfarm: faded out; the output played <n> buffers after the fade        (stdout)
//   synthfarm: the output stopped before the fade-out was played (...); the end may click
//                                                                             (stderr)
ConsoleLine format_fade_out(bool faded, std::uint64_t buffers_after_fade, bool interrupted,
                            std::uint64_t buffers_needed);

}  // namespace synthfarm
