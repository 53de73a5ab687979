#!/usr/bin/env bash
# install_tree_test.sh BUILD_DIR [SYNTHFARM_BENCH]
#
# `cmake --install` with DESTDIR and --prefix puts every file under DESTDIR/PREFIX and where
# scripts/packaging/install.cmake says; the installed synthfarm, which has no worker beside it,
# finds its worker in ../libexec/synthfarm/ and renders exactly what the build tree renders,
# also after the whole tree is moved elsewhere; the installed synthfarm-bench runs the synthfarm
# beside it; without the worker, synthfarm fails (exit 1) naming it and leaves nothing behind.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
build=$1 bench=${2:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR=$work/runtime  # the control FIFOs of the runs below
mkdir -m 700 "$XDG_RUNTIME_DIR"

if ! DESTDIR=$work/root cmake --install "$build" --prefix /opt/synthfarm >"$work/install.log" 2>&1
then
  cat "$work/install.log"
  fail "cmake --install failed (above)"
  finish
fi
expect_equal "DESTDIR and --prefix: everything under DESTDIR/opt/synthfarm" "opt/synthfarm" \
  "$(cd "$work/root" && find . -mindepth 2 -maxdepth 2 | sed 's|^\./||')"
prefix=$work/root/opt/synthfarm

# Where each file goes (the docs/ folder's content is the docs' owners' business).
expected=(bin/synthfarm libexec/synthfarm/synthfarm-worker share/man/man1/synthfarm.1.gz
  share/bash-completion/completions/synthfarm share/doc/synthfarm/README.md
  share/doc/synthfarm/copyright share/doc/synthfarm/changelog.gz)
if [ -n "$bench" ]; then
  expected+=(bin/synthfarm-bench share/man/man1/synthfarm-bench.1.gz
    share/bash-completion/completions/synthfarm-bench)
fi
missing=()
for file in "${expected[@]}"; do [ -e "$prefix/$file" ] || missing+=("$file"); done
expect_equal "every installed file in its place" "" "${missing[*]}"
expect_equal "bin/ holds the programs people run, not the worker" \
  "$(sorted_words synthfarm ${bench:+synthfarm-bench})" "$(ls "$prefix/bin" | sort)"
expect_equal "nothing else at the top of the prefix" "$(sorted_words bin libexec share)" \
  "$(ls "$prefix" | sort)"
expect_equal "share/ holds man pages, completion and docs only" \
  "$(sorted_words bash-completion doc man)" "$(ls "$prefix/share" | sort)"
expect_true "docs/ installed beside README.md (its links point there)" \
  test -f "$prefix/share/doc/synthfarm/docs/BENCHMARKS.md"
expect_true "the manual page is gzip-compressed" gzip -t "$prefix/share/man/man1/synthfarm.1.gz"
if [ -n "$bench" ]; then
  expect_equal "synthfarm-bench's completion is synthfarm's" "synthfarm" \
    "$(readlink "$prefix/share/bash-completion/completions/synthfarm-bench")"
fi

# render PROGRAM WAV: a small offline render, its output in WAV.log; returns synthfarm's status.
render() {
  "$1" --output "$2" --duration 0.25 --workers 2 --sines 20 --seed 7 --name "install-tree-$$" \
    --quiet >"$2.log" 2>&1
}
render "$build/synthfarm" "$work/built.wav"
expect_equal "the build tree renders (exit status)" "0" "$?"
render "$prefix/bin/synthfarm" "$work/installed.wav"
status=$?
expect_equal "the installed synthfarm renders with its libexec worker (exit status)" "0" "$status"
[ "$status" -eq 0 ] || cat "$work/installed.wav.log"
expect_true "the installed synthfarm renders what the build tree renders" \
  same_samples "$work/built.wav" "$work/installed.wav"

# The tree works wherever it is: the worker is found relative to synthfarm, not at a fixed path.
mv "$prefix" "$work/moved"
render "$work/moved/bin/synthfarm" "$work/moved.wav"
expect_equal "the installed tree, moved, still renders (exit status)" "0" "$?"
expect_true "the moved tree renders the same" \
  same_samples "$work/built.wav" "$work/moved.wav"

if [ -n "$bench" ]; then
  "$work/moved/bin/synthfarm-bench" throughput --max-workers 1 --oscillators 20 --per-worker 20 \
    --seconds 0.05 --repeat 1 >"$work/bench.log" 2>&1
  status=$?
  expect_equal "the installed synthfarm-bench runs the synthfarm beside it (exit status)" "0" \
    "$status"
  [ "$status" -eq 0 ] || cat "$work/bench.log"
fi

# No worker anywhere: exit 1, the message names the worker, nothing is left behind.
rm "$work/moved/libexec/synthfarm/synthfarm-worker"
render "$work/moved/bin/synthfarm" "$work/no-worker.wav"
expect_equal "without its worker synthfarm exits 1" "1" "$?"
expect_true "and says which program it could not start" \
  grep -q "cannot start worker 0 (.*synthfarm-worker)" "$work/no-worker.wav.log"
expect_equal "and leaves no control FIFO" "" "$(ls "$XDG_RUNTIME_DIR")"
expect_equal "and no shared memory" "" "$(ls /dev/shm | grep "^synthfarm-install-tree-$$-")"
finish
