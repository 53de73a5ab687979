#include "worker/worker_arguments.h"

#include <boost/program_options.hpp>

#include <sstream>

namespace synthfarm {
namespace po = boost::program_options;

std::variant<WorkerArguments, std::string> parse_worker_arguments(int argc,
                                                                  const char* const argv[]) {
  po::options_description description(
      "synthfarm-worker: renders one group of oscillators for a synthfarm coordinator.\n"
      "It is started by `synthfarm`; running it by hand is only useful for debugging");
  description.add_options()("segment", po::value<std::string>()->required(),
                            "shared memory segment name")(
      "segment-fd", po::value<int>(),
      "inherited descriptor of the segment, to map instead of opening the name")(
      "index", po::value<std::uint32_t>()->required(), "this worker's slot, from 0")(
      "coordinator-pid", po::value<int>()->required(), "pid of the coordinator");
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, description), values);
    po::notify(values);
  } catch (const po::error& e) {
    return std::string("synthfarm-worker: ") + e.what() + "\n" + [&] {
      std::ostringstream text;
      text << description;
      return text.str();
    }();
  }
  WorkerArguments arguments;
  arguments.segment_name = values["segment"].as<std::string>();
  if (values.count("segment-fd")) arguments.segment_descriptor = values["segment-fd"].as<int>();
  arguments.worker_index = values["index"].as<std::uint32_t>();
  arguments.coordinator_pid = values["coordinator-pid"].as<int>();
  if (arguments.coordinator_pid <= 1) return std::string("synthfarm-worker: bad --coordinator-pid");
  return arguments;
}

}  // namespace synthfarm
