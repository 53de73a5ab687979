#include "coordinator/output/device_list.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "coordinator/output/audio_output.h"

namespace synthfarm {
namespace {

std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "0 'system', 2 'sfcap'": the devices a message can offer instead.
std::string name_devices(const std::vector<AudioDevice>& devices) {
  std::string text;
  for (const AudioDevice& device : devices) {
    if (!text.empty()) text += ", ";
    text += std::to_string(device.index) + " '" + device.name + "'";
  }
  return text;
}

std::vector<AudioDevice> with_outputs(const std::vector<AudioDevice>& devices) {
  std::vector<AudioDevice> playable;
  std::copy_if(devices.begin(), devices.end(), std::back_inserter(playable),
               [](const AudioDevice& device) { return device.output_channels > 0; });
  return playable;
}

// "48000", "44100 48000", or "4000-192000 (14 rates)" where a list would not fit a line.
std::string summarize_rates(const std::vector<unsigned>& rates_hz) {
  if (rates_hz.empty()) return "?";
  if (rates_hz.size() > 3) {
    const auto [low, high] = std::minmax_element(rates_hz.begin(), rates_hz.end());
    return std::to_string(*low) + "-" + std::to_string(*high) + " (" +
           std::to_string(rates_hz.size()) + " rates)";
  }
  std::string text;
  for (const unsigned rate : rates_hz) {
    if (!text.empty()) text += ' ';
    text += std::to_string(rate);
  }
  return text;
}

}  // namespace

DeviceAdvice advice_for(AudioApi api) noexcept {
  switch (api) {
    case AudioApi::kJack:
      return {"is jackd running, as this user, with this JACK_DEFAULT_SERVER?",
              "Start one with `jackd -d alsa`, or `jackd -d dummy` without a sound card."};
    case AudioApi::kPulse:
      return {"is a PulseAudio (or pipewire-pulse) server running?",
              "Start one with `pulseaudio --start` or `systemctl --user start pipewire-pulse`."};
    case AudioApi::kAlsa:
      return {"is there a sound card (see `aplay -l`) that nothing else holds?",
              "In a container, pass /dev/snd through."};
    default:
      return {"", ""};
  }
}

const char* audio_api_label(AudioApi api) noexcept {
  switch (api) {
    case AudioApi::kJack:
      return "JACK";
    case AudioApi::kPulse:
      return "PulseAudio";
    case AudioApi::kAlsa:
      return "ALSA";
    default:
      return audio_api_name(api);
  }
}

std::vector<AudioDevice> list_audio_devices(std::optional<AudioApi> only) {
  std::vector<AudioDevice> devices;
  for (const AudioApi api : kDeviceApis) {
    if (only && *only != AudioApi::kAuto && *only != api) continue;
    std::vector<AudioDevice> found = probe_audio_devices(api);
    devices.insert(devices.end(), found.begin(), found.end());
  }
  return devices;
}

std::string format_device_table(const std::vector<AudioDevice>& devices) {
  const std::vector<std::string> headings{"API", "#",          "NAME",     "OUT",
                                          "IN",  "RATES (Hz)", "PREFERRED"};
  std::vector<std::vector<std::string>> rows{headings};
  for (const AudioDevice& device : devices) {
    rows.push_back({audio_api_name(device.api), std::to_string(device.index), device.name,
                    std::to_string(device.output_channels), std::to_string(device.input_channels),
                    summarize_rates(device.sample_rates_hz),
                    device.preferred_rate_hz ? std::to_string(device.preferred_rate_hz) : "?"});
  }
  std::vector<std::size_t> widths(headings.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  // Counts read best aligned right, words left.
  const auto right_aligned = [](std::size_t column) {
    return column == 1 || column == 3 || column == 4;
  };
  std::ostringstream text;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const std::string& cell = rows[r][c];
      const std::string padding(widths[c] - cell.size(), ' ');
      line += c == 0 ? "" : "  ";
      line += right_aligned(c) ? padding + cell : cell + padding;
    }
    if (r > 0 && devices[r - 1].default_output) line += "  (default output)";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text << line << "\n";
  }
  text << "\nPlay on one with: synthfarm --audio API --device NAME (a part of it will do) or "
          "--device #\n";
  return text.str();
}

std::string format_device_json(const std::vector<AudioDevice>& devices) {
  // Ordered: the fields read in the order the header documents them.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const AudioDevice& device : devices) {
    list.push_back({{"api", audio_api_name(device.api)},
                    {"index", device.index},
                    {"name", device.name},
                    {"output_channels", device.output_channels},
                    {"input_channels", device.input_channels},
                    {"sample_rates_hz", device.sample_rates_hz},
                    {"preferred_rate_hz", device.preferred_rate_hz},
                    {"default_output", device.default_output}});
  }
  // Device names are whatever the driver says: never let a stray byte abort the listing.
  return list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string explain_no_devices(std::optional<AudioApi> only) {
  std::string text;
  if (only && *only != AudioApi::kAuto) {
    const DeviceAdvice advice = advice_for(*only);
    text = std::string("synthfarm: no ") + audio_api_label(*only) + " device found.\n  " +
           advice.question + " " + advice.remedy + "\n";
  } else {
    text = "synthfarm: no audio device found.\n";
    for (const AudioApi api : kDeviceApis) {
      const DeviceAdvice advice = advice_for(api);
      text += std::string("  ") + audio_api_label(api) + ": " + advice.question + " " +
              advice.remedy + "\n";
    }
  }
  return text +
         "synthfarm plays without a device too: --audio null (a built-in clock) or --output "
         "FILE.wav --duration SECONDS.\n";
}

DeviceMatch match_device(const std::vector<AudioDevice>& devices, AudioApi api,
                         const std::string& query) {
  const std::string label = audio_api_label(api);
  const std::vector<AudioDevice> playable = with_outputs(devices);
  DeviceMatch match;
  match.available = playable.empty() ? label + " lists no device with outputs"
                                     : label + " has " + name_devices(playable);
  const std::string& offer = match.available;
  if (!query.empty() && query.find_first_not_of("0123456789") == std::string::npos) {
    errno = 0;
    const unsigned long index = std::strtoul(query.c_str(), nullptr, 10);
    const bool representable = errno == 0;  // a number of 20 digits names no device
    const auto device = std::find_if(
        devices.begin(), devices.end(),
        [&](const AudioDevice& candidate) { return representable && candidate.index == index; });
    if (device == devices.end()) {
      match.error = label + " has no device " + query + " (" + offer + ")";
    } else if (device->output_channels == 0) {
      match.error = label + " device " + query + " '" + device->name +
                    "' has no output channels; choose one that has (" + offer + ")";
    } else {
      match.kind = DeviceMatch::Kind::kFound;
      match.device = *device;
    }
    return match;
  }
  const std::string wanted = lower_case(query);
  std::vector<AudioDevice> exact;
  std::vector<AudioDevice> partial;
  for (const AudioDevice& device : playable) {
    const std::string name = lower_case(device.name);
    if (name == wanted) exact.push_back(device);
    if (name.find(wanted) != std::string::npos) partial.push_back(device);
  }
  const std::vector<AudioDevice>& candidates = exact.empty() ? partial : exact;
  if (candidates.size() == 1) {
    match.kind = DeviceMatch::Kind::kFound;
    match.device = candidates.front();
  } else if (candidates.empty()) {
    match.error = "no " + label + " device name contains '" + query + "' (" + offer + ")";
  } else {
    match.kind = DeviceMatch::Kind::kSeveral;
    match.error = "'" + query + "' matches several " + label +
                  " devices: " + name_devices(candidates) +
                  "; give more of the name, or its number";
  }
  return match;
}

}  // namespace synthfarm
