#!/usr/bin/env bash
# debian_package_test.sh SOURCE_DIR BUILD_DIR [BENCH]
#
# The Debian package as a user meets it: scripts/package builds it (from BUILD_DIR) and prints
# its path last; lintian finds no error in it; apt installs it; the installed synthfarm prints
# its version, renders offline what the build tree renders, and plays on its null clock with
# workers from /usr/libexec/synthfarm, answering `synthfarm ctl status` and `quit`; man finds
# synthfarm's page, and synthfarm-bench's when BENCH (the built synthfarm-bench) is given: a
# build without the benchmarks (SYNTHFARM_BUILD_BENCH=OFF, as the sanitizer builds are)
# packages no synthfarm-bench; the completion loads; after `apt-get purge` every path the
# package had is as it was before (gone, unless it existed already), and nothing of it is left
# in /dev/shm or as a process. Each step's duration is printed (not asserted: the machine is shared).
#
# Root only (it installs and removes a package); skipped otherwise, and when a synthfarm
# package is already installed (it would be replaced, then removed). Whatever happens, the exit
# trap removes the package and whatever apt installed with it, and stops what it started.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
source_dir=$1 build=$2 bench=${3:-}

if [ "$(id -u)" -ne 0 ]; then
  skip "not root: this test installs and removes the synthfarm package" \
    "(run scripts/test as root, or: sudo ctest --test-dir $build -R package_debian)"
fi
missing=()
for tool in dpkg dpkg-deb dpkg-query dpkg-shlibdeps apt-get file lintian man cpack gzip; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  skip "missing ${missing[*]}: install the Debian packages dpkg-dev file lintian man-db" \
    "(scripts/test does)"
fi
# One at a time on the machine (two build trees' test runs would install the same package):
# a lock on /run/lock itself, which leaves no file behind.
exec 9</run/lock
flock -w 900 9 || skip "another run of this test held its lock (flock /run/lock) for 15 min"
# dpkg knows the package in some state (installed, or removed with its configuration kept).
if dpkg-query -W -f='${Status}\n' synthfarm 2>/dev/null | grep -qv 'not-installed'; then
  skip "a synthfarm package is installed on this machine" \
    "($(dpkg-query -W -f='${Version} ${Status}' synthfarm)); this test would replace it, then" \
    "remove it: remove it first (apt-get purge synthfarm)"
fi

work=$(mktemp -d)
chmod 755 "$work"  # apt reads the .deb copied here as user _apt
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"
export DEBIAN_FRONTEND=noninteractive
# Another apt or dpkg on the machine (a build installing what it needs) holds the lock a while.
apt_get=(apt-get -y -q -o DPkg::Lock::Timeout=300)
coordinator_pid=
apt_installed=()  # what apt said it installs besides synthfarm: removed again at exit
name=debian-package-$$

# Puts the machine back as it was, whatever failed: our coordinator, the package, its
# dependencies that were installed for it, the work folder.
cleanup() {
  if [ -n "$coordinator_pid" ] && kill -0 "$coordinator_pid" 2>/dev/null; then
    kill -KILL "$coordinator_pid"
    wait "$coordinator_pid" 2>/dev/null
  fi
  if dpkg-query -W -f='${Status}\n' synthfarm 2>/dev/null | grep -qv 'not-installed'; then
    echo "cleanup: purging synthfarm"
    "${apt_get[@]}" purge synthfarm >"$work/cleanup.log" 2>&1 || cat "$work/cleanup.log"
  fi
  if [ ${#apt_installed[@]} -gt 0 ]; then
    echo "cleanup: purging what apt installed for it: ${apt_installed[*]}"
    "${apt_get[@]}" purge "${apt_installed[@]}" >"$work/cleanup.log" 2>&1 || cat "$work/cleanup.log"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP  # through the EXIT trap

# step NAME: prints how long the previous step took and starts timing NAME.
step_name= step_start=
started=$EPOCHREALTIME
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step() {
  [ -n "$step_name" ] && printf 'time  %s: %s s\n' "$step_name" "$(seconds_since "$step_start")"
  step_name=${1:-} step_start=$EPOCHREALTIME
  [ -z "$step_name" ] || echo "----  $step_name"
}

# ---------------------------------------------------------------------------------------------
step "scripts/package"
package_output=$(SYNTHFARM_BUILD=$build "$source_dir/scripts/package" 2>"$work/package.log")
status=$?
deb=$(tail -n 1 <<<"$package_output")
expect_equal "scripts/package exits 0" "0" "$status"
if [ "$status" -ne 0 ] || [ ! -f "$deb" ]; then
  cat "$work/package.log"
  fail "scripts/package printed no .deb on its last line (got '$deb')"
  finish
fi
pass "scripts/package's last line is the .deb: $deb"
version=$(dpkg-deb -f "$deb" Version)
project_version=$(sed -n 's/^project(synthfarm VERSION \([0-9.]*\).*/\1/p' \
  "$source_dir/CMakeLists.txt")
expect_equal "the package's version is the project's" "$project_version" "$version"
echo "note  $(stat -c %s "$deb") bytes; Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo "note  Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '{ print "note  " $1, $3, $6, $7, $8 }'

step "lintian"
lintian --display-info "$deb" >"$work/lintian.log" 2>&1
sed -e 's/^/lintian  /' "$work/lintian.log"
expect_equal "lintian: no errors" "" "$(grep '^E:' "$work/lintian.log")"

# ---------------------------------------------------------------------------------------------
step "apt-get install"
cp "$deb" "$work/"
deb=$work/${deb##*/}
# Every path of the package, and which of them exist now: after the purge, exactly these must.
mapfile -t package_paths < <(dpkg-deb --fsys-tarfile "$deb" | tar -t |
  sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$')
exists() { [ -e "$1" ] || [ -L "$1" ]; }
existing_before=$(for path in "${package_paths[@]}"; do exists "$path" && echo "$path"; done)
# What apt would install besides synthfarm (its missing dependencies), to remove them again.
mapfile -t apt_installed < <("${apt_get[@]}" install -s "$deb" 2>/dev/null |
  awk '$1 == "Inst" && $2 != "synthfarm" { print $2 }')
[ ${#apt_installed[@]} -eq 0 ] || echo "note  apt installs with it: ${apt_installed[*]}"
"${apt_get[@]}" install --no-install-recommends "$deb" >"$work/install.log" 2>&1
status=$?
expect_equal "apt-get install ./synthfarm_${version}_*.deb exits 0" "0" "$status"
if [ "$status" -ne 0 ]; then
  cat "$work/install.log"
  finish
fi
expect_equal "dpkg: synthfarm $version installed" "$version install ok installed" \
  "$(dpkg-query -W -f='${Version} ${Status}' synthfarm)"

step "installed synthfarm --version"
expect_equal "synthfarm is /usr/bin/synthfarm on the PATH" "/usr/bin/synthfarm" \
  "$(PATH=/usr/local/bin:/usr/bin:/bin command -v synthfarm)"
expect_equal "synthfarm --version" "synthfarm $version" \
  "$(/usr/bin/synthfarm --version | head -n 1)"

step "installed synthfarm: offline render"
render() {
  "$1" --output "$2" --duration 0.25 --workers 2 --sines 20 --seed 7 --name "$name" --quiet \
    >"$2.log" 2>&1
}
render /usr/bin/synthfarm "$work/installed.wav"
status=$?
expect_equal "the installed synthfarm renders offline (exit status)" "0" "$status"
[ "$status" -eq 0 ] || cat "$work/installed.wav.log"
render "$build/synthfarm" "$work/built.wav"
expect_true "it renders what the build tree renders" \
  same_samples "$work/built.wav" "$work/installed.wav"

step "installed synthfarm: null clock, ctl status, ctl quit"
/usr/bin/synthfarm --audio null --name "$name" --workers 2 --sines 10 --quiet \
  >"$work/live.out" 2>"$work/live.err" &
coordinator_pid=$!
answer=
for _ in $(seq 300); do  # up to 30 s: a hang guard, not a measurement
  kill -0 "$coordinator_pid" 2>/dev/null || break
  if answer=$(/usr/bin/synthfarm ctl --name "$name" status 2>/dev/null); then break; fi
  sleep 0.1
done
expect_true "synthfarm ctl status answers (exit 0)" test -n "$answer"
expect_equal "its status lists both workers playing" "2" \
  "$(grep -c '^status worker [01]: state=playing' <<<"$answer")"
workers=$(sed -n 's/^status worker [0-9]*: .* pid=\([0-9]*\) .*/\1/p' <<<"$answer")
for pid in $workers; do
  expect_equal "worker pid $pid runs the installed worker" \
    "/usr/libexec/synthfarm/synthfarm-worker" "$(readlink "/proc/$pid/exe")"
done
quit_answer=$(/usr/bin/synthfarm ctl --name "$name" quit 2>&1)
expect_equal "synthfarm ctl quit exits 0" "0" "$?"
wait "$coordinator_pid"
status=$?
coordinator_pid=
expect_equal "the coordinator exits 0 after quit" "0" "$status"
[ "$status" -eq 0 ] || cat "$work/live.err"
echo "note  ctl quit answered: $quit_answer"

step "man -w, completion"
expect_equal "man -w synthfarm" "/usr/share/man/man1/synthfarm.1.gz" "$(man -w synthfarm 2>&1)"
if [ -n "$bench" ]; then
  expect_equal "man -w synthfarm-bench" "/usr/share/man/man1/synthfarm-bench.1.gz" \
    "$(man -w synthfarm-bench 2>&1)"
else
  expect_equal "no synthfarm-bench in a package built without it" "" \
    "$(dpkg-query -L synthfarm | grep synthfarm-bench)"
fi
expect_equal "the installed completion registers itself" "complete -F _synthfarm synthfarm" \
  "$(bash -c 'source /usr/share/bash-completion/completions/synthfarm && complete -p synthfarm')"

# ---------------------------------------------------------------------------------------------
step "apt-get purge"
dpkg-query -L synthfarm >"$work/dpkg-L" 2>&1
"${apt_get[@]}" purge synthfarm >"$work/purge.log" 2>&1
status=$?
expect_equal "apt-get purge synthfarm exits 0" "0" "$status"
[ "$status" -eq 0 ] || cat "$work/purge.log"
expect_equal "dpkg: synthfarm no longer known" "" \
  "$(dpkg-query -W -f='${Status}' synthfarm 2>/dev/null | grep -v not-installed)"
# Every path of the package (the archive's and dpkg -L's) exists only if it did before.
existing_after=$(for path in "${package_paths[@]}" $(grep -vx '/\.' "$work/dpkg-L"); do
  exists "$path" && echo "$path"
done | sort -u)
expect_equal "on disk: every path of the package as before the install" \
  "$(sort -u <<<"$existing_before")" "$existing_after"
# The instances of this test had this name (other tests on the machine may have their own).
expect_equal "/dev/shm: nothing of this test's instances" "" \
  "$(ls /dev/shm | grep "^synthfarm-$name-")"
left=()
for exe in /proc/[0-9]*/exe; do
  target=$(readlink "$exe" 2>/dev/null) || continue
  if [[ $target == /usr/bin/synthfarm* || $target == /usr/libexec/synthfarm/* ]]; then
    left+=("${exe%/exe}: $target")
  fi
done
expect_equal "no process of the installed programs" "" "${left[*]}"
# Only synthfarm's: the package build above may have left a compiler cache's scratch there.
expect_equal "no control FIFO, nothing of synthfarm's in the runtime directory" "" \
  "$(find "$XDG_RUNTIME_DIR" -mindepth 1 \( -type p -o -name '*synthfarm*' \) -print)"
step ""
echo "time  whole test: $(seconds_since "$started") s"
finish
