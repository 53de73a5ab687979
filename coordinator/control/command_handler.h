#pragma once
// What a control command does, behind one narrow interface: the ControlServer (FIFO lines)
// calls it today, and any other transport (OSC over UDP, say) can call the same handler. So
// nothing here knows where a command came from or where its answer goes.

#include <string>

#include "coordinator/control/control_command.h"

namespace synthfarm {

// What a command did, for the instance's stdout or stderr and for whoever asked.
struct CommandResult {
  bool ok = true;
  std::string text;  // whole lines, each ending in a newline
  bool log = true;   // also worth a line on stdout when someone asked (a change, not a query)
};

class CommandHandler {
 public:
  virtual ~CommandHandler() = default;

  // Thread: control. May allocate and block briefly (`report` writes a file). Should not
  // throw: a failure is a result with ok false; a transport catches what escapes anyway, so
  // that the instance plays on.
  virtual CommandResult apply(const ControlCommand& command) = 0;

 protected:
  CommandHandler() = default;
  CommandHandler(const CommandHandler&) = default;
  CommandHandler& operator=(const CommandHandler&) = default;
};

}  // namespace synthfarm
