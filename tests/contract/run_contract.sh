#!/usr/bin/env bash
# Contract test harness: run a driver program against a Prism mock server that
# serves OpenAI's official OpenAPI spec (cut down to the Files and Batches calls),
# so that every request the driver sends is validated against the spec.
#
#   tests/contract/run_contract.sh DRIVER [ARGS...]
#
# The driver runs with
#   OBATCH_CONTRACT_BASE_URL=http://127.0.0.1:PORT/v1
#   OPENAI_API_KEY=sk-contract-test
# and this script exits with the driver's exit status. A request that violates
# the spec is answered by Prism with 422 (bad/missing field, enum violation,
# missing multipart part), 415 (wrong Content-Type), 401 (missing or non-Bearer
# Authorization), 404/405 (unknown path/method) or 400 (malformed JSON), so the
# driver should fail on any non-2xx answer.
#
# Exit codes: the driver's status; 77 when Prism (npm ci --prefix tests/contract),
# node or the spec is missing (CTest: SKIP_RETURN_CODE 77); 2 for bad usage;
# 3 when Prism could not be started.
#
# Environment (all optional):
#   OBATCH_OPENAPI_SPEC          full spec; default <repo>/../shared/openapi/openai-openapi.yaml
#   OBATCH_PRISM_START_TIMEOUT   seconds to wait for Prism to answer (default 30)
#   OBATCH_PRISM_ERRORS=1        pass --errors to Prism (see below; off by default)
#   OBATCH_CONTRACT_KEEP=1       keep the work dir (cut spec, Prism log) even on success
#
# About Prism's --errors flag (checked on @stainless-api/prism-cli 5.16.1, mock mode):
# it does NOT change how requests are checked. With or without it, a request that
# violates the spec gets 422/415/401/400/404/405 and Prism logs the violation
# (prism-http mocker: negotiateResponse -> createInvalidInputResponse). What
# --errors does is act on *response* validation: when Prism's own generated mock
# response does not match the spec's response schema, it answers 500
# "VIOLATIONS ... the --errors flag is set" instead of sending the response with
# an `sl-violations` header (prism-http-server: `opts.config.errors &&
# errorViolations.length`, where errorViolations are output violations only).
# That is a fault of the spec or of Prism, not of the client, and a 500 would
# also set off the client's retry logic, so we leave --errors off. On the cut
# spec no response violations were seen either way. Set OBATCH_PRISM_ERRORS=1 to
# turn it on anyway.

set -u

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
SKIP=77

say() { printf 'run_contract: %s\n' "$*" >&2; }

if [ $# -lt 1 ]; then
  say "usage: $0 DRIVER [ARGS...]"
  exit 2
fi

SPEC=${OBATCH_OPENAPI_SPEC:-$REPO_ROOT/../shared/openapi/openai-openapi.yaml}
PRISM=$SCRIPT_DIR/node_modules/.bin/prism

if ! command -v node >/dev/null 2>&1; then
  say "SKIP: node not found on PATH (Node >= 18 is needed to run Prism; then: npm ci --prefix tests/contract)"
  exit $SKIP
fi
if [ ! -x "$PRISM" ]; then
  say "SKIP: Prism not installed at $PRISM; install it with: npm ci --prefix tests/contract"
  exit $SKIP
fi
if [ ! -f "$SPEC" ]; then
  say "SKIP: OpenAPI spec not found at $SPEC; set OBATCH_OPENAPI_SPEC to OpenAI's openapi.yaml (github.com/openai/openai-openapi)"
  exit $SKIP
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/obatch-contract.XXXXXX") || { say "cannot create a temp dir"; exit 3; }
PRISM_LOG=$WORK/prism.log
PRISM_PID=
DRIVER_PID=
KEEP_WORK=${OBATCH_CONTRACT_KEEP:-0}

stop_prism() {
  if [ -n "$PRISM_PID" ] && kill -0 "$PRISM_PID" 2>/dev/null; then
    kill -TERM "$PRISM_PID" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$PRISM_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$PRISM_PID" 2>/dev/null
    wait "$PRISM_PID" 2>/dev/null
  fi
  PRISM_PID=
}

cleanup() {
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    say "stopping the driver (pid $DRIVER_PID)"
    kill -TERM "$DRIVER_PID" 2>/dev/null
    sleep 0.5
    kill -KILL "$DRIVER_PID" 2>/dev/null
  fi
  stop_prism
  if [ "$KEEP_WORK" = 1 ]; then
    say "work dir kept: $WORK (cut spec, prism.log)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

show_prism_log() {
  [ -s "$PRISM_LOG" ] || { say "(Prism log is empty)"; return; }
  # Validator findings first (they say which field was wrong), then the plain tail.
  local findings
  findings=$(grep -E '\[VALIDATOR\].*(error|warning)|Request terminated with error|Violation' "$PRISM_LOG" |
    grep -v '\] get / ' | tail -n 40)
  if [ -n "$findings" ]; then
    say "---- Prism validation findings (last 40) ----"
    printf '%s\n' "$findings" >&2
  fi
  say "---- tail of Prism log ($PRISM_LOG) ----"
  tail -n 30 "$PRISM_LOG" >&2
  say "---- end of Prism log ----"
}

# 1. Cut the spec (full spec: ~11-35 s to start; cut: Prism's own load time only).
CUT=$WORK/openai-files-batches.yaml
if ! node "$SCRIPT_DIR/cut_spec.js" "$SPEC" "$CUT" 2>"$WORK/cut.log"; then
  say "cutting the spec failed:"
  cat "$WORK/cut.log" >&2
  exit 3
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

# Poll until any HTTP answer comes back (a 404 on / is fine), Prism dies, or time runs out.
# Exit 0 ready, 1 timed out, 2 Prism exited.
wait_ready() {
  node - "$1" "$2" "$3" <<'EOF'
const http = require('http');
const [port, timeoutS, pid] = process.argv.slice(2).map(Number);
const deadline = Date.now() + timeoutS * 1000;
function alive() { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } }
function again() {
  if (!alive()) process.exit(2);
  if (Date.now() > deadline) process.exit(1);
  setTimeout(poll, 100);
}
function poll() {
  const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
    res.resume();
    process.exit(0);
  });
  req.on('timeout', () => req.destroy());
  req.on('error', again);
}
poll();
EOF
}

PRISM_ARGS=(mock --host 127.0.0.1)
if [ "${OBATCH_PRISM_ERRORS:-0}" = 1 ]; then PRISM_ARGS+=(--errors); fi
START_TIMEOUT=${OBATCH_PRISM_START_TIMEOUT:-30}

# 2. Start Prism on a free port (retry if another process grabbed the port in between).
PORT=
for attempt in 1 2 3; do
  PORT=$(free_port) || { say "cannot pick a free port"; exit 3; }
  t0=$(date +%s%N)
  "$PRISM" "${PRISM_ARGS[@]}" --port "$PORT" "$CUT" >"$PRISM_LOG" 2>&1 </dev/null &
  PRISM_PID=$!
  wait_ready "$PORT" "$START_TIMEOUT" "$PRISM_PID"
  rc=$?
  if [ $rc -eq 0 ]; then
    t1=$(date +%s%N)
    say "Prism ${PRISM_ARGS[*]} up on 127.0.0.1:$PORT after $(( (t1 - t0) / 1000000 )) ms"
    break
  fi
  if [ $rc -eq 1 ]; then
    say "Prism did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s"
    show_prism_log
    KEEP_WORK=1
    exit 3
  fi
  # Prism exited before it was ready.
  wait "$PRISM_PID" 2>/dev/null
  PRISM_PID=
  if grep -q EADDRINUSE "$PRISM_LOG" && [ $attempt -lt 3 ]; then
    say "port $PORT was taken, retrying"
    continue
  fi
  say "Prism exited before it was ready"
  show_prism_log
  KEEP_WORK=1
  exit 3
done

# 3. Run the driver.
say "running: $* (OBATCH_CONTRACT_BASE_URL=http://127.0.0.1:$PORT/v1)"
# Run it in the background and `wait`, so that a signal to this script runs the
# traps at once (stopping the driver and Prism) instead of after the driver ends.
OBATCH_CONTRACT_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=sk-contract-test "$@" &
DRIVER_PID=$!
wait "$DRIVER_PID"
status=$?
DRIVER_PID=

# Error answers Prism gave the driver (the readiness probe's 404 on / excluded).
rejected=$(grep 'Request terminated with error' "$PRISM_LOG" 2>/dev/null | grep -vc '\] get / ')
if [ "$status" -ne 0 ]; then
  say "FAILED: driver exited with status $status"
  show_prism_log
  KEEP_WORK=1
else
  say "driver passed (Prism answered ${rejected:-0} of its requests with an error status)"
fi
exit "$status"
