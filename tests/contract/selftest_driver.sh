#!/usr/bin/env bash
# Stand-in driver for testing the harness itself (not the library):
#
#   tests/contract/run_contract.sh tests/contract/selftest_driver.sh [--break]
#
# Sends the Files/Batches requests obatch makes with curl and expects 2xx, then
# sends known violations and expects Prism to reject them. With --break it also
# sends one invalid request while expecting 2xx, to show that the harness fails.
# Exits 1 and names every expectation that failed.

set -u

BASE=${OBATCH_CONTRACT_BASE_URL:?OBATCH_CONTRACT_BASE_URL not set (run me through run_contract.sh)}
KEY=${OPENAI_API_KEY:?OPENAI_API_KEY not set}
AUTH="Authorization: Bearer $KEY"
JSON='Content-Type: application/json'

command -v curl >/dev/null 2>&1 || { echo "selftest: curl not found" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/obatch-selftest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
printf '%s\n' \
  '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}' \
  '{"custom_id":"r2","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"yo"}]}}' \
  >"$TMP/some.jsonl"

failed=()
passed=0

# check NAME EXPECT CURL_ARGS...   EXPECT: 2xx | non2xx | a literal status code
check() {
  local name=$1 expect=$2 code ok=0
  shift 2
  # -m 10: Prism forks have been seen to hang on malformed bodies.
  code=$(curl -sS -m 10 -o "$TMP/body" -w '%{http_code}' "$@" 2>"$TMP/err") || code=${code:-000}
  case $expect in
    2xx) [[ $code == 2?? ]] && ok=1 ;;
    non2xx) [[ $code != 2?? && $code != 000 ]] && ok=1 ;;
    *) [[ $code == "$expect" ]] && ok=1 ;;
  esac
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    printf 'ok    %-34s %s\n' "$name" "$code"
  else
    failed+=("$name (expected $expect, got $code)")
    printf 'FAIL  %-34s %s (expected %s) %s %s\n' "$name" "$code" "$expect" \
      "$(head -c 400 "$TMP/body" | tr '\n' ' ')" "$(tr '\n' ' ' <"$TMP/err")"
  fi
}

CREATE_OK='{"input_file_id":"file-abc","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"k":"v"}}'

# Valid requests: must be 2xx.
check "a upload POST /files"               2xx -H "$AUTH" -F "file=@$TMP/some.jsonl" -F purpose=batch "$BASE/files"
check "b create POST /batches"             2xx -H "$AUTH" -H "$JSON" -d "$CREATE_OK" "$BASE/batches"
check "c GET /batches/{id}"                2xx -H "$AUTH" "$BASE/batches/batch_abc"
check "d POST /batches/{id}/cancel"        2xx -H "$AUTH" -X POST "$BASE/batches/batch_abc/cancel"
check "e GET /batches?limit&after"         2xx -H "$AUTH" "$BASE/batches?limit=2&after=batch_abc"
check "f GET /files/{id}/content"          2xx -H "$AUTH" "$BASE/files/file-abc/content"
check "g GET /files/{id}"                  2xx -H "$AUTH" "$BASE/files/file-abc"
check "h GET /files?purpose=batch"         2xx -H "$AUTH" "$BASE/files?purpose=batch"

# Violations: must be rejected.
check "v1 completion_window 48h"           non2xx -H "$AUTH" -H "$JSON" \
  -d '{"input_file_id":"file-abc","endpoint":"/v1/chat/completions","completion_window":"48h"}' "$BASE/batches"
check "v2 unknown endpoint"                non2xx -H "$AUTH" -H "$JSON" \
  -d '{"input_file_id":"file-abc","endpoint":"/v1/nonexistent","completion_window":"24h"}' "$BASE/batches"
check "v3 missing Authorization"           401 -H "$JSON" -d "$CREATE_OK" "$BASE/batches"
check "v4 upload without purpose"          non2xx -H "$AUTH" -F "file=@$TMP/some.jsonl" "$BASE/files"

if [ "${1:-}" = --break ]; then
  # Deliberately invalid (no input_file_id) but expected to pass: the run must fail.
  check "x deliberately bad create (--break)" 2xx -H "$AUTH" -H "$JSON" \
    -d '{"endpoint":"/v1/chat/completions","completion_window":"24h"}' "$BASE/batches"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "selftest: ${#failed[@]} expectation(s) failed:"
  printf '  - %s\n' "${failed[@]}"
  echo "selftest: $passed passed, ${#failed[@]} failed"
  exit 1
fi
echo "selftest: $passed passed, 0 failed"
