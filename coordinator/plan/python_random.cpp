#include "coordinator/plan/python_random.h"

#include <array>
#include <sstream>
#include <vector>

namespace synthfarm {
namespace {

constexpr std::size_t kStateWords = 624;

// CPython's init_by_array (Modules/_randommodule.c), the reference MT19937 seeding for a key
// of 32-bit words. std::seed_seq seeds differently, hence this function.
std::array<std::uint32_t, kStateWords> init_by_array(const std::vector<std::uint32_t>& key) {
  std::array<std::uint32_t, kStateWords> mt{};
  mt[0] = 19650218u;
  for (std::uint32_t i = 1; i < kStateWords; ++i) {
    mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i;
  }
  std::size_t i = 1;
  std::size_t j = 0;
  for (std::size_t k = std::max(kStateWords, key.size()); k > 0; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] +
            static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kStateWords) {
      mt[0] = mt[kStateWords - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (std::size_t k = kStateWords - 1; k > 0; --k) {
    mt[i] =
        (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kStateWords) {
      mt[0] = mt[kStateWords - 1];
      i = 1;
    }
  }
  mt[0] = 0x80000000u;
  return mt;
}

}  // namespace

PythonRandom::PythonRandom(std::uint64_t seed) {
  // random.seed(n) keys MT with |n| split into 32-bit words, least significant first.
  std::vector<std::uint32_t> key{static_cast<std::uint32_t>(seed)};
  if (seed >> 32) key.push_back(static_cast<std::uint32_t>(seed >> 32));
  const auto state = init_by_array(key);
  // The standard defines a mersenne_twister_engine's text form as its n state words in order,
  // so streaming them in gives the engine exactly this state, next output after a twist, as
  // in CPython.
  std::stringstream text;
  for (std::uint32_t word : state) text << word << ' ';
  text >> engine_;
}

double PythonRandom::random() {
  const std::uint32_t a = static_cast<std::uint32_t>(engine_()) >> 5;
  const std::uint32_t b = static_cast<std::uint32_t>(engine_()) >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

}  // namespace synthfarm
