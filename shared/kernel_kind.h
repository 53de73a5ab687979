#pragma once
// The two SineLoop kernels. `exact` reproduces pyo 1.0.4 bit for bit; `fast` computes a
// polynomial sine and agrees with `exact` to within a few 1e-5 at low feedback.

#include <cstdint>
#include <optional>
#include <string_view>

namespace synthfarm {

enum class KernelKind : std::uint32_t { kExact = 0, kFast = 1 };

constexpr std::string_view kernel_kind_name(KernelKind kind) noexcept {
  return kind == KernelKind::kExact ? "exact" : "fast";
}

constexpr std::optional<KernelKind> parse_kernel_kind(std::string_view text) noexcept {
  if (text == "exact") return KernelKind::kExact;
  if (text == "fast") return KernelKind::kFast;
  return std::nullopt;
}

}  // namespace synthfarm
