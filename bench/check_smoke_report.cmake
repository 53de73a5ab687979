# Runs one synthfarm-bench subcommand at a tiny size with --json and checks the report's
# structure and internal consistency (never its speed: STYLE.md 12). Used by ctest:
#   cmake -DBENCH=<synthfarm-bench> -DSUBCOMMAND=capacity -DJSON=<file> -DARGS="a;b;c" -P this
#   (capacity: -DWAKE_DEADLINES=N when ARGS run the idle wake-up probe, N deadlines per CPU)
cmake_minimum_required(VERSION 3.22)

execute_process(COMMAND ${BENCH} ${SUBCOMMAND} ${ARGS} --json ${JSON}
                RESULT_VARIABLE exit_code OUTPUT_VARIABLE output ERROR_VARIABLE errors)
# capacity --audio jack needs the JACK server scripts/test starts (JACK_DEFAULT_SERVER): without
# one the test is skipped (SKIP_REGULAR_EXPRESSION), or fails when SYNTHFARM_REQUIRE_JACK=1, as
# the JACK process tests do.
if(NOT exit_code EQUAL 0 AND errors MATCHES "no JACK server '[^']*' is running"
   AND NOT "$ENV{SYNTHFARM_REQUIRE_JACK}" STREQUAL "1")
  message(STATUS "SKIPPED: ${errors}(set SYNTHFARM_REQUIRE_JACK=1 to make this fail)")
  return()
endif()
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "synthfarm-bench ${SUBCOMMAND} exited ${exit_code}:\n${output}\n${errors}")
endif()
if(NOT output MATCHES "machine: .* logical CPUs" OR NOT output MATCHES "SIMD target: ")
  message(FATAL_ERROR "the table does not state the machine:\n${output}")
endif()
file(READ ${JSON} report)
file(REMOVE ${JSON})

function(expect condition_text)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "${SUBCOMMAND} report: expected ${condition_text}\n${report}")
  endif()
endfunction()

string(JSON benchmark GET "${report}" benchmark)
expect("benchmark '${SUBCOMMAND}', got '${benchmark}'" benchmark STREQUAL SUBCOMMAND)
string(JSON cores GET "${report}" machine logical_cores)
expect("logical_cores >= 1" cores GREATER_EQUAL 1)
string(JSON rows LENGTH "${report}" results)
math(EXPR last "${rows} - 1")

if(SUBCOMMAND STREQUAL "capacity")
  string(JSON repeats GET "${report}" repeats)
  expect("one row per worker count (${EXPECTED_ROWS}), got ${rows}" rows EQUAL EXPECTED_ROWS)
  # The output searched, as asked (--audio in ARGS; null when not given), at its own rate and
  # period: the null clock's 48 kHz and 256 frames, or the JACK server's.
  string(JSON audio GET "${report}" audio)
  set(asked_audio null)
  if(ARGS MATCHES "--audio;jack")
    set(asked_audio jack)
  endif()
  expect("audio '${asked_audio}', got '${audio}'" audio STREQUAL asked_audio)
  # The idle wake-up probe: WAKE_DEADLINES per CPU, each a wake-up or missed during a late one;
  # without WAKE_DEADLINES the run must have skipped it (--wake-probe 0).
  string(JSON wake_type TYPE "${report}" idle_wake)
  if(DEFINED WAKE_DEADLINES)
    expect("an idle_wake object, got a ${wake_type}" wake_type STREQUAL "OBJECT")
    string(JSON wake_cpus GET "${report}" idle_wake cpus)
    string(JSON wakes GET "${report}" idle_wake wakes)
    string(JSON missed GET "${report}" idle_wake missed_deadlines)
    math(EXPR accounted "${wakes} + ${missed}")
    math(EXPR expected_deadlines "${WAKE_DEADLINES} * ${wake_cpus}")
    expect("${WAKE_DEADLINES} deadlines for each of ${wake_cpus} CPUs, got ${wakes} wake-ups and ${missed} missed"
           wake_cpus GREATER 0 AND accounted EQUAL expected_deadlines AND wakes GREATER_EQUAL wake_cpus)
  else()
    expect("no idle_wake without a probe, got a ${wake_type}" wake_type STREQUAL "NULL")
  endif()
  string(JSON rate GET "${report}" sample_rate_hz)
  string(JSON frames GET "${report}" block_frames)
  if(audio STREQUAL "null")
    expect("the null clock's 48000 Hz and 256 frames, got ${rate} and ${frames}"
           rate EQUAL 48000 AND frames EQUAL 256)
  endif()
  expect("a sample rate of 8000 to 384000 Hz, got ${rate}" rate GREATER_EQUAL 8000 AND rate LESS_EQUAL 384000)
  # frames / rate in whole microseconds (CMake's math is integer).
  math(EXPR period_floor "1000000 * ${frames} / ${rate}")
  math(EXPR period_ceiling "${period_floor} + 1")
  foreach(i RANGE ${last})
    string(JSON capacity GET "${report}" results ${i} capacity)
    string(JSON low GET "${report}" results ${i} capacity_min)
    string(JSON high GET "${report}" results ${i} capacity_max)
    string(JSON searches LENGTH "${report}" results ${i} searches)
    string(JSON probes GET "${report}" results ${i} probes)
    expect("${repeats} searches in row ${i}, got ${searches}" searches EQUAL repeats)
    expect("min <= median <= max in row ${i}" low LESS_EQUAL capacity AND capacity LESS_EQUAL high)
    expect("at least one probe per search in row ${i}" probes GREATER_EQUAL repeats)
    # The latency, scheduling and load searched, as asked (ARGS).
    string(JSON buffers GET "${report}" results ${i} buffers)
    expect("buffers 1 to 16 in row ${i}" buffers GREATER_EQUAL 1 AND buffers LESS_EQUAL 16)
    string(JSON realtime GET "${report}" results ${i} realtime)
    expect("realtime on or off in row ${i}" realtime MATCHES "^(on|off)$")
    string(JSON load GET "${report}" results ${i} background_load)
    # One oscillator per worker plays on any machine that runs synthfarm at all, when nothing
    # else competes and it may schedule in real time. Under load without real time even the
    # null clock's own wakes can be late: 0 is a result there. So it is on a JACK server
    # without real time (scripts/test's: jackd --no-realtime), where one late wake of its
    # cycle thread is an xrun that fails a probe of any size.
    if(load EQUAL 0 AND realtime STREQUAL "on" AND audio STREQUAL "null")
      expect("a capacity of at least one oscillator in row ${i}" capacity GREATER 0)
    endif()
    if(capacity GREATER 0)
      string(JSON callbacks GET "${report}" results ${i} callbacks)
      string(JSON period GET "${report}" results ${i} period_us)
      expect("callbacks counted at capacity in row ${i}" callbacks GREATER 0)
      # The rate and period the report states (256 frames at 48 kHz: 5333.3 us).
      expect("a period of ${frames} frames at ${rate} Hz in row ${i}, got ${period} us"
             period GREATER_EQUAL period_floor AND period LESS period_ceiling)
      # The kernel bound, from an offline render of the median capacity.
      string(JSON bound GET "${report}" results ${i} kernel_bound)
      string(JSON offline GET "${report}" results ${i} offline_ns_per_oscillator_sample)
      expect("a kernel bound from an offline render in row ${i}" bound GREATER 0)
      # CMake compares reals as numbers; the cost is far from 0 on any machine.
      expect("an offline cost per oscillator-sample in row ${i}" offline GREATER 0)
    endif()
    list(APPEND seen "${buffers}/${realtime}/${load}")
  endforeach()
  # Every row is its own condition: the searches were grouped, not merged.
  list(LENGTH seen rows_seen)
  list(REMOVE_DUPLICATES seen)
  list(LENGTH seen distinct)
  expect("a distinct buffers/realtime/load per row, got ${seen}" distinct EQUAL rows_seen)
elseif(SUBCOMMAND STREQUAL "throughput")
  string(JSON repeats GET "${report}" repeats)
  expect("${EXPECTED_ROWS} rows (strong and weak per worker count), got ${rows}"
         rows EQUAL EXPECTED_ROWS)
  foreach(i RANGE ${last})
    string(JSON workers GET "${report}" results ${i} workers)
    string(JSON samples LENGTH "${report}" results ${i} wall_samples)
    string(JSON speedup GET "${report}" results ${i} speedup)
    string(JSON wall GET "${report}" results ${i} wall_seconds)
    expect("${repeats} wall samples in row ${i}, got ${samples}" samples EQUAL repeats)
    expect("a positive wall time in row ${i}" wall GREATER 0)
    if(workers EQUAL 1)
      expect("speed-up 1 for one worker, got ${speedup}" speedup EQUAL 1)
    endif()
  endforeach()
elseif(SUBCOMMAND STREQUAL "mix")
  expect("${EXPECTED_ROWS} rows (workers x blocks), got ${rows}" rows EQUAL EXPECTED_ROWS)
  foreach(i RANGE ${last})
    string(JSON median GET "${report}" results ${i} median_ns)
    string(JSON p99 GET "${report}" results ${i} p99_ns)
    string(JSON max GET "${report}" results ${i} max_ns)
    expect("0 < median <= p99 <= max in row ${i}"
           median GREATER 0 AND median LESS_EQUAL p99 AND p99 LESS_EQUAL max)
  endforeach()
endif()
