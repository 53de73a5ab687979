# Shared by the tests in tests/package (sourced): counted checks, skips, help-text oracles.
# A test prints one line per check and ends with finish: exit 0 when all passed, 1 otherwise.
# Exit 77 is ctest's SKIP_RETURN_CODE here.

failures=0
pass() { printf 'ok    %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}
skip() {
  printf 'SKIP  %s\n' "$*"
  exit 77
}
# expect_equal WHAT EXPECTED ACTUAL
expect_equal() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
# expect_true WHAT COMMAND...: passes when COMMAND succeeds.
expect_true() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

# sorted_words WORDS...: the words, one per line, sorted, without repeats; to compare sets.
sorted_words() { printf '%s\n' $* | sed '/^$/d' | sort -u; }

# The long options a --help text (stdin) documents, from its option column: the lines that
# start with two spaces and a dash, up to the first two spaces. (The completion reads --help
# its own way; this is the independent view the tests compare it with.)
help_options() {
  awk '/^  -/ { line = substr($0, 3); sub(/  .*/, "", line); print line }' |
    grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# same_samples A.wav B.wav: the same audio: the bytes after the "data" chunk's header. (The
# header before it differs between two renders: libsndfile's PEAK chunk holds the time of
# writing.)
wav_samples() {
  local offset
  offset=$(grep -obUa data "$1" | head -n 1 | cut -d: -f1)
  [ -n "$offset" ] && tail -c +$((offset + 9)) "$1"
}
same_samples() { cmp <(wav_samples "$1") <(wav_samples "$2"); }
