#!/usr/bin/env bash
# completion_test.sh COMPLETION SYNTHFARM [SYNTHFARM_BENCH]
#
# Loads the bash completion as bash-completion does and drives it as bash does on <Tab>
# (COMP_WORDS, COMP_CWORD, the function `complete -p` names), against the built programs:
# options, enumerated values (each one accepted by synthfarm, and every value synthfarm names
# offered), ctl commands and options, running instances' names from their control FIFOs, files.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
completion=$1 synthfarm=$2 bench=${3:-}

work=$(mktemp -d)
coordinator_pid=
cleanup() {
  if [ -n "$coordinator_pid" ] && kill -0 "$coordinator_pid" 2>/dev/null; then
    kill -TERM "$coordinator_pid"
    wait "$coordinator_pid"
  fi
  rm -rf "$work" "/tmp/synthfarm-completion-$$-tmp.control"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"

source "$completion"
expect_equal "complete -p synthfarm" "complete -F _synthfarm synthfarm" "$(complete -p synthfarm)"
if [ -n "$bench" ]; then
  expect_equal "complete -p synthfarm-bench" "complete -F _synthfarm_bench synthfarm-bench" \
    "$(complete -p synthfarm-bench)"
fi

# completions WORD...: what <Tab> offers after the command line WORD... (the last word is the
# one being completed), sorted, one per line. The first word is the program, as typed.
completions() {
  local function
  function=$(complete -p "${1##*/}" | awk '{ print $3 }')
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
  sorted_words "${COMPREPLY[@]}"
}

# --- Options: exactly those --help documents.
expect_equal "synthfarm --<Tab>: every option of --help" \
  "$("$synthfarm" --help | help_options)" "$(completions "$synthfarm" --)"
expect_equal "synthfarm --au<Tab>" "--audio" "$(completions "$synthfarm" --au)"
expect_equal "synthfarm <Tab> offers ctl too" "ctl" \
  "$(completions "$synthfarm" '' | grep -x ctl)"
expect_equal "synthfarm --workers <Tab>: a number, nothing offered" "" \
  "$(completions "$synthfarm" --workers '')"
expect_equal "after a switch, options again" "$(completions "$synthfarm" --q)" \
  "$(completions "$synthfarm" --list-devices --q)"

# --- Enumerated values: the completion's list is the program's. synthfarm names its choices
# when refused a value ("unknown audio API 'x' (choose auto, jack, pulse, alsa or null)"), and
# takes every value offered: with an invalid --name after it, a good value lets parsing reach
# --name, which is then the option refused.
choices_in_error() {
  sed -n 's/.*choose \(.*\)/\1/p' | tr -d '(),:' | tr ' ' '\n' |
    grep -vxE 'or|one|of|' | sort -u
}
for option in --audio --kernel --simd --on-worker-failure; do
  offered=$(completions "$synthfarm" "$option" '')
  named=$("$synthfarm" "$option" no-such-value 2>&1 | choices_in_error)
  expect_equal "synthfarm $option <Tab> offers what synthfarm names" "$named" "$offered"
  for value in $offered; do
    error=$("$synthfarm" "$option" "$value" --name '!' 2>&1)
    # --simd: a target this CPU lacks is known, and refused as such.
    if [[ $error == *"--name:"* || ($option == --simd && $error == *"this CPU cannot run"*) ]]; then
      pass "synthfarm takes $option $value"
    else
      fail "synthfarm refuses $option $value, which the completion offers: $error"
    fi
  done
done
expect_equal "synthfarm --kernel e<Tab>" "exact" "$(completions "$synthfarm" --kernel e)"
# bash splits "--audio=j" into "--audio" "=" "j".
expect_equal "synthfarm --audio=j<Tab>" "jack" "$(completions "$synthfarm" --audio = j)"

# --- Files: --output and --record offer *.wav and directories, --report *.json.
mkdir "$work/files" "$work/files/takes"
touch "$work/files/a.wav" "$work/files/b.json" "$work/files/c.txt"
cd "$work/files"
expect_equal "synthfarm --output <Tab>: WAV files and directories" "$(sorted_words a.wav takes)" \
  "$(completions "$synthfarm" --output '')"
expect_equal "synthfarm --report <Tab>: JSON files and directories" "$(sorted_words b.json takes)" \
  "$(completions "$synthfarm" --report '')"
cd - >/dev/null

# --- ctl: its commands (as the main --help lists them), its options, the command's arguments.
main_commands=$("$synthfarm" --help |
  awk '/^Control while playing:/ { inside = 1 } inside && /^    [a-z]/ { print $1 }' | sort -u)
expect_equal "synthfarm ctl <Tab>: the control commands" "$main_commands" \
  "$(completions "$synthfarm" ctl '')"
expect_equal "synthfarm ctl --<Tab>: ctl's options" "$("$synthfarm" ctl --help | help_options)" \
  "$(completions "$synthfarm" ctl --)"
expect_equal "synthfarm ctl --timeout 2 st<Tab>" "$(sorted_words status stop)" \
  "$(completions "$synthfarm" ctl --timeout 2 st)"
expect_equal "synthfarm ctl stop <Tab>" "all" "$(completions "$synthfarm" ctl stop '')"
expect_equal "synthfarm ctl --name x set 0 <Tab>" "$(sorted_words feedback mul)" \
  "$(completions "$synthfarm" ctl --name x set 0 '')"
expect_equal "synthfarm ctl gain <Tab>: a number, nothing offered" "" \
  "$(completions "$synthfarm" ctl gain '')"

# --- Instances: a running one, found by its FIFO, and FIFOs in every place the completion
# knows; not a plain file, not another user's FIFO.
name=completion-$$
"$synthfarm" --audio null --name "$name" --workers 1 --sines 1 --quiet \
  >"$work/coordinator.out" 2>&1 &
coordinator_pid=$!
for _ in $(seq 300); do  # up to 30 s: a hang guard, not a measurement
  [ -p "$XDG_RUNTIME_DIR/synthfarm/$name.control" ] && break
  kill -0 "$coordinator_pid" 2>/dev/null || break
  sleep 0.1
done
mkdir -p -m 700 "$XDG_RUNTIME_DIR/synthfarm"
mkfifo "$XDG_RUNTIME_DIR/synthfarm/in-directory.control"
mkfifo "/tmp/synthfarm-completion-$$-tmp.control"
touch "$XDG_RUNTIME_DIR/synthfarm-not-a-fifo.control"
expected="$name in-directory completion-$$-tmp"
if [ "$(id -u)" -eq 0 ]; then
  mkfifo "$XDG_RUNTIME_DIR/synthfarm-someone-else.control"
  chown nobody "$XDG_RUNTIME_DIR/synthfarm-someone-else.control"
fi
# Other instances of this user may run on the machine: only these names matter.
offered=$(completions "$synthfarm" ctl --name '' |
  grep -xE "$name|in-directory|completion-$$-tmp|not-a-fifo|someone-else")
expect_equal "synthfarm ctl --name <Tab>: this user's instances" "$(sorted_words $expected)" \
  "$offered"
expect_equal "synthfarm ctl --name comp<Tab>" "$(sorted_words "$name" "completion-$$-tmp")" \
  "$(completions "$synthfarm" ctl --name comp | grep -xE "$name|completion-$$-tmp")"
kill -TERM "$coordinator_pid"
wait "$coordinator_pid"
expect_equal "the instance exits 0 on SIGTERM" "0" "$?"
coordinator_pid=

# --- synthfarm-bench: commands, each command's options, values.
if [ -n "$bench" ]; then
  expect_equal "synthfarm-bench <Tab>" "$(sorted_words capacity mix throughput --help)" \
    "$(completions "$bench" '')"
  for command in mix throughput capacity; do
    expect_equal "synthfarm-bench $command --<Tab>" "$("$bench" "$command" --help | help_options)" \
      "$(completions "$bench" "$command" --)"
  done
  expect_equal "synthfarm-bench throughput --kernel <Tab>" "$(sorted_words exact fast)" \
    "$(completions "$bench" throughput --kernel '')"
fi
finish
