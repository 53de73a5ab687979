#include "coordinator/report/run_console.h"

namespace synthfarm {

void RunConsole::hide_terminal_status() {
  if (terminal_) terminal_->clear();
  terminal_.reset();
}

void RunConsole::command_result(const CommandResult& result) {
  if (result.ok) {
    out(result.text);
  } else {
    err("synthfarm: " + result.text);
  }
}

void RunConsole::print(std::FILE* stream, const std::string& text) {
  if (terminal_) terminal_->clear();
  std::fputs(text.c_str(), stream);
  std::fflush(stream);
}

void RunConsole::redraw(std::chrono::steady_clock::time_point now,
                        const std::function<void(TerminalStatus& terminal)>& draw) {
  if (!terminal_ || now - last_redraw_ < kRedrawInterval) return;
  last_redraw_ = now;
  draw(*terminal_);
}

}  // namespace synthfarm
