#!/usr/bin/env bash
# man_page_test.sh MAN_DIR SYNTHFARM [SYNTHFARM_BENCH]
#
# The manual pages the build generated (MAN_DIR/synthfarm.1.gz, synthfarm-bench.1.gz) hold what
# --help says, so that help2man's rearrangement (scripts/packaging/help-for-man) cannot drop
# an option, a command or a section silently when --help changes: every long option of
# `synthfarm --help` and `synthfarm ctl --help`, every control command, every option of every
# synthfarm-bench command, the sections a manual page needs, and no line of --version that
# describes the build machine. man(1) renders them without a warning.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
man_dir=$1 synthfarm=$2 bench=${3:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# page_text PAGE: the page's roff source with the escapes help2man writes undone, so that
# options read as in --help ("\-\-workers" -> "--workers", "\fB...\fR" -> "..."). From a file:
# `grep -q` on a pipe would end the pipe early, and pipefail would count that as a failure.
page_text() {
  local text=$work/${1##*/}.txt
  if [ ! -f "$text" ]; then
    zcat "$1" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' -e 's/\\&//g' >"$text"
  fi
  cat "$text"
}
# page_has PAGE GREP-ARGUMENT...: grep -q in the page's text.
page_has() {
  page_text "$1" >/dev/null
  grep -q "${@:2}" "$work/${1##*/}.txt"
}
# expect_sections PAGE SECTION...: each SECTION is a .SH heading of PAGE.
expect_sections() {
  local page=$1 section
  shift
  for section in "$@"; do
    if page_has "$page" -E "^\.SH \"?$section\"?$"; then
      pass "${page##*/}: section $section"
    else
      fail "${page##*/}: no section $section"
    fi
  done
}
# expect_options PAGE WHAT OPTION...: each OPTION appears in PAGE.
expect_options() {
  local page=$1 what=$2 option missing=()
  shift 2
  for option in "$@"; do
    page_has "$page" -F -- "$option" || missing+=("$option")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    pass "${page##*/}: all $# options of $what"
  else
    fail "${page##*/}: options of $what missing: ${missing[*]}"
  fi
}
# expect_renders PAGE: man renders PAGE without a warning (what lintian also checks).
expect_renders() {
  if ! command -v man >/dev/null; then
    echo "note  man is not installed (Debian man-db): rendering of ${1##*/} not checked"
    return
  fi
  local warnings
  warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null)
  expect_equal "${1##*/}: man renders it without warnings" "" "$warnings"
}

page=$man_dir/synthfarm.1.gz
[ -f "$page" ] || { fail "no $page (is the synthfarm_man_pages target built?)"; finish; }
expect_sections "$page" NAME SYNOPSIS DESCRIPTION OPTIONS "CONTROL COMMANDS" "EXIT STATUS" \
  ENVIRONMENT FILES EXAMPLES "SEE ALSO"
expect_options "$page" "synthfarm --help" $("$synthfarm" --help | help_options)
expect_options "$page" "synthfarm ctl --help" $("$synthfarm" ctl --help | help_options)
# Every control command with its arguments, as --help writes it ("set <worker|all> ...").
missing=()
while IFS= read -r command; do
  page_has "$page" -xF -- "$command" || missing+=("$command")
done < <("$synthfarm" --help | awk '/^Control while playing:/ { inside = 1 }
  inside && /^    [a-z]/ { sub(/^ +/, ""); sub(/  .*/, ""); print }')
expect_equal "synthfarm.1.gz: every control command of --help" "" "${missing[*]}"
# The exit codes, as --help and ctl --help state them.
for help in "--help" "ctl --help"; do
  codes=$("$synthfarm" $help | sed -n '/^Exit codes:/,/^$/p' | tr '\n' ' ' |
    sed -e 's/^Exit codes: *//' -e 's/ *$//')
  expect_true "synthfarm.1.gz: the exit codes of synthfarm $help" \
    grep -qF -- "$codes" <(page_text "$page" | tr '\n' ' ')
done
# The --version lines after the first describe this machine's CPU, not synthfarm.
expect_equal "synthfarm.1.gz: no line of --version about the build machine" "" \
  "$(page_text "$page" | grep -E 'this CPU runs:|SIMD targets in this build:')"
expect_renders "$page"

if [ -n "$bench" ]; then
  page=$man_dir/synthfarm-bench.1.gz
  [ -f "$page" ] || { fail "no $page"; finish; }
  expect_sections "$page" NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" EXAMPLES "SEE ALSO"
  for command in $("$bench" --help | awk '/^Commands:/ { inside = 1; next }
                                           inside && /^  [a-z]/ { print $1 }'); do
    expect_sections "$page" "SYNTHFARM-BENCH ${command^^}"
    expect_options "$page" "synthfarm-bench $command --help" \
      $("$bench" "$command" --help | help_options)
  done
  expect_renders "$page"
fi
finish
