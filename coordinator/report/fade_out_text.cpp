#include "coordinator/report/fade_out_text.h"

namespace synthfarm {

ConsoleLine format_fade_out(bool faded, std::uint64_t buffers_after_fade, bool interrupted,
                            std::uint64_t buffers_needed) {
  const std::string after = std::to_string(buffers_after_fade);
  if (interrupted) return {false, "synthfarm: fade-out cut short by a second signal\n"};
  if (faded && buffers_after_fade >= buffers_needed) {
    return {false,
            "synthfarm: faded out; the output played " + after + " buffers after the fade\n"};
  }
  return {true, "synthfarm: the output stopped before the fade-out was played (" +
                    std::string(faded ? "it asked for only " + after + " buffers after it"
                                      : "the fade was not computed") +
                    "); the end may click\n"};
}

}  // namespace synthfarm
