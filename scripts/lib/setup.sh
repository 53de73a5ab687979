# Shared by scripts/run and scripts/test: install what is missing, then configure and build.
# Sourced, not executed. Needs: bash, dpkg, apt-get (Debian 12).

SYNTHFARM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SYNTHFARM_BUILD=${SYNTHFARM_BUILD:-$SYNTHFARM_ROOT/build}

# Everything comes from Debian; nothing is downloaded at build time.
SYNTHFARM_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev   # Boost.Interprocess, Program_options
  librtaudio-dev libjack-jackd2-dev libasound2-dev   # RtAudio and the libraries it drives
  libsndfile1-dev                             # WAV files
  libhwy-dev                                  # Highway: SIMD kernels, run-time dispatch
  libbenchmark-dev                            # Google Benchmark: bench/
  libgtest-dev nlohmann-json3-dev             # tests
)
SYNTHFARM_TEST_PACKAGES=(jackd2)              # a real JACK server (dummy backend) for tests
SYNTHFARM_DEMO_PACKAGES=(jackd2 python3)      # scripts/scale-out-demo: jack_rec, the level check
SYNTHFARM_PLOT_PACKAGES=(gnuplot-nox)         # scripts/plot-scaling: PNG charts
SYNTHFARM_BUILD_PACKAGES+=(help2man)          # manual pages, generated from --help at build time
SYNTHFARM_PACKAGING_PACKAGES=(dpkg-dev file)  # scripts/package: CPack runs dpkg-shlibdeps, file
SYNTHFARM_BUILD_PACKAGES+=(liblo-dev)                  # OSC control: liblo's message codec
SYNTHFARM_TEST_PACKAGES+=(python3-liblo liblo-tools)   # real OSC clients for tests/process
SYNTHFARM_TEST_PACKAGES+=(man-db lintian "${SYNTHFARM_PACKAGING_PACKAGES[@]}")  # tests/package
SYNTHFARM_FUZZ_PACKAGES=(clang libclang-rt-14-dev)  # scripts/fuzz: clang's libFuzzer, ASan, UBSan

say() { printf '%s\n' "$*" >&2; }

# ensure_packages PACKAGE...: installs the missing ones as root; as anyone else prints the
# command to run and fails.
ensure_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "synthfarm: missing Debian packages: ${missing[*]}"
    say "install them as root, then run this again:"
    say "  sudo apt-get install --no-install-recommends ${missing[*]}"
    return 1
  fi
  say "synthfarm: installing ${missing[*]}"
  # jackd2 asks about real-time priority through debconf: noninteractive keeps its default.
  apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >&2
}

# ensure_build: configures a Release build once, then lets ninja rebuild what is stale.
ensure_build() {
  if [ ! -f "$SYNTHFARM_BUILD/build.ninja" ]; then
    say "synthfarm: configuring $SYNTHFARM_BUILD (Release)"
    cmake -S "$SYNTHFARM_ROOT" -B "$SYNTHFARM_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 ||
      return 1
  fi
  cmake --build "$SYNTHFARM_BUILD" --parallel "$(nproc)" >&2
}
