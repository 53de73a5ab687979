# Starts a private JACK server with the dummy backend (no sound card needed) for the tests;
# see docs/TESTING.md. Sourced. start_jack_dummy exports JACK_DEFAULT_SERVER so
# every client in this shell's children finds it; stop_jack_dummy ends it.

start_jack_dummy() {
  export JACK_NO_START_SERVER=1
  export JACK_NO_AUDIO_RESERVATION=1
  export JACK_DEFAULT_SERVER="synthfarm-test-$$"
  SYNTHFARM_JACK_LOG=$(mktemp /tmp/synthfarm-jackd.XXXXXX.log)
  # --port-max 128 keeps jackd's shared memory near 41 MiB (the default dies where /dev/shm
  # is 64 MiB); no real-time: CI machines rarely grant it.
  jackd --no-realtime --port-max 128 -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 \
    >"$SYNTHFARM_JACK_LOG" 2>&1 &
  SYNTHFARM_JACK_PID=$!
  local waited=0
  until [ "$(jack_wait -c 2>/dev/null)" = "running" ]; do
    if ! kill -0 "$SYNTHFARM_JACK_PID" 2>/dev/null; then
      say "synthfarm: jackd (dummy backend) exited at start; its log:"
      cat "$SYNTHFARM_JACK_LOG" >&2
      return 1
    fi
    if [ "$waited" -ge 100 ]; then
      say "synthfarm: jackd did not answer within 10 s; its log:"
      cat "$SYNTHFARM_JACK_LOG" >&2
      stop_jack_dummy
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  say "synthfarm: JACK dummy server '$JACK_DEFAULT_SERVER' running (pid $SYNTHFARM_JACK_PID)"
}

stop_jack_dummy() {
  if [ -n "${SYNTHFARM_JACK_PID:-}" ] && kill -0 "$SYNTHFARM_JACK_PID" 2>/dev/null; then
    kill -TERM "$SYNTHFARM_JACK_PID" 2>/dev/null || true
    wait "$SYNTHFARM_JACK_PID" 2>/dev/null || true
  fi
  [ -n "${SYNTHFARM_JACK_LOG:-}" ] && rm -f "$SYNTHFARM_JACK_LOG"
  SYNTHFARM_JACK_PID=
}
