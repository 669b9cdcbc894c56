#!/usr/bin/env python3
"""Stateful fake of the OpenAI Files + Batches API, for lifecycle and fault tests.

Standard library only. Serves http://127.0.0.1:PORT/v1 with the calls described in
shared/design/WIRE.md, plus an unauthenticated control API under /_control.

Usage:
    python3 fake_batch_server.py [--port 0] [--port-file PATH] [--api-key test-key]
                                 [--config JSON-or-@file] [--seed N]
                                 [--max-lifetime 600] [--verbose]
                                 [--tls-cert PEM --tls-key PEM]

With --tls-cert/--tls-key it serves https:// instead (the control API too); a client
that rejects the certificate is counted in stats "tls_handshake_failures".

Once listening it writes the port to --port-file (atomically) and prints
"listening on 127.0.0.1:PORT". It stops on SIGTERM/SIGINT, POST /_control/shutdown,
or after --max-lifetime seconds.

Batch lifecycle: each GET /v1/batches/{id} moves the batch along. Every stage
(validating, in_progress, finalizing, cancelling) is seen by `steps` retrieves, then
the batch moves on; after finalizing it takes config `final_status`. A batch whose
lines do not match its endpoint, that breaks max_requests_per_file or
one_model_per_batch, or with final_status "failed", fails straight from validating
(that is where the real service fails batches); so does one over enqueued_token_limit.

Config keys (--config, POST /_control/config):
    steps             retrieves per stage (default 1; 0 = terminal on first retrieve)
    final_status      completed | expired | failed | cancelled (default completed)
    fail_custom_ids   custom_ids whose lines go to the error file
    fail_every        every Nth input line (1-based) goes to the error file (0 = off)
    partial_fraction  share of lines (input order) with results when expired/cancelled (0.5)
    shuffle           shuffle output/error file lines (default true)
    seed              seed for shuffling and faults (default 0; --seed sets it)
    fault_rate        probability of a random fault on a /v1 request (default 0)
    fault_kinds       kinds picked for random faults (default 429, 500, 503, reset)
    retry_after       Retry-After value sent with 429 (default "0"; null = no header)
    retry_after_ms    retry-after-ms value sent with 429 (default null = no header)
    truncate_rate     probability that a non-empty file download is cut in half
    redirect_location Location sent by the "302" / "307" fault kinds (default null: the
                      request's own URL on this server)
    faults            targeted one-shot faults: {"method", "path" | "path_prefix",
                      "path_suffix", "kind", "count" (default 1), "skip" (default 0),
                      "seconds" (holds, default 30), "rate" ("slow", bytes/s, default 4096)}
    no_listing        listings this server lacks, like an OpenAI-compatible server that
                      has only part of the API: "files" (GET /v1/files) and/or "batches"
                      (GET /v1/batches) answer no_listing_status (default [])
    no_listing_status 404 (no such URL, the default), 405 (method not allowed) or 501
                      (not implemented)
    max_requests_per_file
                      a batch whose input file has more lines fails validating with error
                      code "too_many_requests" (default 0 = no limit; OpenAI: 50,000)
    max_bytes_per_file
                      an upload (POST /v1/files) larger than this answers 400, param "file",
                      and stores nothing (default 0 = no limit; OpenAI: 200 MB)
    one_model_per_batch
                      a batch whose lines name more than one body "model" fails validating
                      with error code "mixed_models" (default false)
    enqueued_token_limit
                      prompt tokens one model may have enqueued (default 0 = no limit):
                      see "Enqueued token limit" below
    no_batch_api      every /v1/files*, /v1/batches* and /v1/inline_batches* call answers
                      404, like a server with only the normal endpoints (vLLM, llama.cpp)
                      (default false)
    direct_latency_ms each direct request admitted (below) waits this long in its handler
                      thread before its answer (default 0); a 429 of the limits, a 400 for a
                      bad body and a fault that answers instead of acting come at once
    direct_jitter_ms  plus a uniform random extra in [0, this] from the seeded rng (default 0)
    direct_rpm        requests per minute the direct routes admit (default 0 = no limit)
    direct_tpm        tokens per minute the direct routes admit (default 0 = no limit)
    rate_burst_seconds
                      the short-period buckets of direct_rpm / direct_tpm hold this many
                      seconds' worth of the limit (a number > 0, default 2)
    direct_headers    direct answers carry x-ratelimit-* headers (default true; false = a
                      server that sends none)

Enqueued token limit, like OpenAI's per-organization, per-model batch queue: a request's
prompt tokens are max(1, len(its "body" as compact UTF-8 JSON) // 4), a batch's are the
sum over its lines, and its model is its first line's. A batch that leaves validating
while its tokens plus those of the other batches of its model already admitted (passed
validating, now in_progress, finalizing or cancelling) exceed the limit fails as OpenAI's
does: errors.data[0] = {"code": "token_limit_exceeded", "line": null, "param": null,
"message": "Enqueued token limit reached for MODEL in organization org-fake. Limit:
90,000 enqueued tokens. Please try submitting your batch again later."}. Batches still
validating (or cancelled while validating) do not count against others.

Direct mode: the normal endpoints, one request per call, no batch. POST /v1/chat/completions,
/v1/embeddings, /v1/completions, /v1/responses and /v1/moderations ("direct routes") are
authorized and faulted like every /v1 call. The body must be a JSON object (else 400, counted
against no limit). The answer is derived from the body so a test can tell which request it belongs to; its "text" is
    chat         the last message's content (a string; for a list of parts, the "text" of
                 its parts joined with ""); answer {"id": "chatcmpl-..", "object":
                 "chat.completion", "created", "model", "choices": [{"index": 0, "message":
                 {"role": "assistant", "content": "echo: " + text}, "logprobs": null,
                 "finish_reason": "stop"}], "usage": {"prompt_tokens", "completion_tokens",
                 "total_tokens"}}
    embeddings   "input" (a string, or a list: one embedding per item; text = the items
                 joined with "\n"); answer {"object": "list", "data": [{"object": "embedding",
                 "index": i, "embedding": [sha256(item i as UTF-8)[k] / 255 rounded to 4 places,
                 k = 0..3]}], "model", "usage": {"prompt_tokens", "total_tokens"}}
    completions  "prompt" (a string, or a list: one choice per item); answer {"id": "cmpl-..",
                 "object": "text_completion", "created", "model", "choices": [{"text": "echo: "
                 + prompt, "index": i, "logprobs": null, "finish_reason": "stop"}], "usage"}
    responses    "input" (a string; for a list of items, the last item's content as for chat);
                 answer {"id": "resp_..", "object": "response", "created_at", "status":
                 "completed", "model", "output": [{"type": "message", "id": "msg_..", "status":
                 "completed", "role": "assistant", "content": [{"type": "output_text", "text":
                 "echo: " + text, "annotations": []}]}], "usage": {"input_tokens",
                 "output_tokens", "total_tokens"}}
    moderations  "input" (a string or a list, as for embeddings); answer {"id": "modr-..",
                 "model", "results": [{"flagged": false, "categories": {}, "category_scores":
                 {}} per item]}
Usage counts: prompt/input tokens = the prompt-token estimate of the body (as for the queue
below), completion/output tokens = the words of the echo. Every direct answer (errors and 429s
too) has header x-request-id: req_<hex>. A text containing "FAIL400" answers 400
invalid_request_error, code "fake_failure" (final: not to be retried); "FAIL500" answers 500
server_error every time.

Direct rate limits (direct_rpm, direct_tpm), enforced as OpenAI says ("limits may be enforced
over shorter periods"): a request's tokens are its body's prompt-token estimate plus its
max_completion_tokens, else max_tokens, else max_output_tokens (an integer, when given). It is
admitted when, for each limit set, (a) the requests (tokens) admitted in the last 60 s plus its
own stay within the limit, and (b) a bucket holding max(1, limit / 60 * rate_burst_seconds),
refilled at limit / 60 a second and starting full, holds 1 request (its tokens, or the whole
bucket when it holds fewer: a larger request leaves the bucket in debt). Otherwise it answers
429 {"error": {"message": "Rate limit reached for requests|tokens per min ...", "type":
"requests" | "tokens", "param": null, "code": "rate_limit_exceeded"}} with retry-after-ms (ms
until it would be admitted, >= 1) and retry-after (whole seconds, rounded up); it counts
against nothing. A request with more tokens than direct_tpm can never be admitted: 429 type
"tokens", "Request too large for tokens per min ...", retry after 60 s. The limits are checked
on arrival, before the latency. Changing a limit or rate_burst_seconds refills its bucket.
With direct_headers, every direct answer carries, for each limit set,
x-ratelimit-limit-requests (direct_rpm), x-ratelimit-remaining-requests (requests that would be
admitted now: min(whole requests in the bucket, direct_rpm - admitted in the last 60 s), >= 0),
x-ratelimit-reset-requests (time until the bucket is full and the 60 s window empty, as a Go
duration rounded up to ms: "0s", "120ms", "1s", "1m30.5s", "6m0s"), and the same three
-tokens headers for direct_tpm.

Besides the OpenAI calls, POST /v1/inline_batches?endpoint=E takes the JSONL requests as
the body (Content-Type application/jsonl) and creates a batch without an upload.

Anthropic's Message Batches (paths /v1/messages/batches...): headers x-api-key (the same key)
and anthropic-version: 2023-06-01 are required, and an Authorization header is refused (401:
a key sent the OpenAI way); errors are {"type": "error", "error": {"type", "message"}}.
POST /v1/messages/batches {"requests": [{"custom_id", "params"}]} checks every request
(custom_id ^[a-zA-Z0-9_-]{1,64}$ and unique, params an object with "model", non-empty
"messages" and an integer "max_tokens" >= 1; at most 100,000 requests and 256 MB) and answers
400 naming the first bad one, else the new batch: {"id": "msgbatch_..", "type":
"message_batch", "processing_status", "request_counts": {processing, succeeded, errored,
canceled, expired}, "ended_at", "created_at", "expires_at", "archived_at",
"cancel_initiated_at", "results_url"} with RFC 3339 times. It lives the OpenAI lifecycle
underneath (validating, in_progress, finalizing are "in_progress"; cancelling is "canceling";
the terminal ones are "ended"; final_status "failed" is not used with it). GET
/v1/messages/batches/{id}, POST .../{id}/cancel, GET /v1/messages/batches?limit&after_id
(newest first, Anthropic batches only; {"data", "has_more", "first_id", "last_id"}), and
GET .../{id}/results (JSONL, shuffled like output files; 400 before the batch ends): one line
per request, {"custom_id", "result": {"type": "succeeded", "message"} | {"type": "errored",
"error": {"type": "error", "error": {"type": "invalid_request_error", "message"}}} |
{"type": "canceled"} | {"type": "expired"}}; failing requests (fail_custom_ids, fail_every)
are errored, those past partial_fraction of an expired or cancelled batch expired or
canceled. results_url is this server's own (from the Host header), or config
anthropic_results_base + the path when set (to test a results_url on another host).

A host of the OpenAI API with its own auth (a provider declared in a file): config
auth_header "api-key" (or any header name) takes the key in that header instead of
Authorization: Bearer, and required_query {"name": "value"} answers 404 to every /v1
request without those query parameters (as Azure does without api-version).

Fault kinds: "429", "500", "503", "401" (that answer instead of the action; 401 as for a
refused key), "reset" (close with RST instead of the action), "reset_after" / "500_after"
(perform the action, then RST / answer 500: the lost-answer case), "truncate" (perform the
action, send the full Content-Length but half the body, then close), "302" / "307" (answer
that redirect, with an empty body, to config redirect_location), "echo_auth" (answer 500
with the request's Authorization header, and its x-api-key when it has one, inside
error.message, as a careless server might).
Holds, for killing a client at a precise point (each is listed by /_control/held while it
lasts; it ends after the fault's "seconds", on POST /_control/release, or when the client
goes away):
    "hang_before"  hold the whole request before acting; if the client goes away meanwhile
                   the request is abandoned, never acted on (stats "abandoned")
    "hang_after"   act, then hold before answering (the answer is lost if the client goes)
    "stall"        a request with a body: read half of it, hold, then read the rest (the
                   request is abandoned if the client went away); a request without a body
                   (a download): send the headers and half the body, hold, send the rest
    "slow"         like "stall" but paced: the body is read or sent at "rate" bytes/s
Holds apply to bodies sent with Content-Length (chunked request bodies are read at once).
A request whose body ends early (the client died while sending) is abandoned too.

Control API (no auth):
    GET  /_control/stats     counters (below), "requests" (one record per /v1 request:
                             method, path, query, status (null: no answer), fault,
                             authorization, host, user_agent, "acted" (the action ran),
                             "abandoned" (dropped before acting)), "held" (as below)
    GET  /_control/held      {"held": [{id, method, path, kind, phase (before_action |
                             after_action | request_body | response_body), bytes_done,
                             bytes_total, since}]}: the requests held right now
    POST /_control/release   {"id": N} releases one held request, {} all of them
    GET|POST /_control/config, POST /_control/reset, POST /_control/shutdown,
    POST /_control/advance/{batch_id} {"status": terminal status}
Counters: "uploads" and "batches_created" count uploads and batch creations the server
ACTED on (stored); "upload_attempts" and "create_attempts" count every authorized
POST /v1/files and POST /v1/batches (or /v1/inline_batches) that arrived, faulted or not;
"abandoned" (requests dropped before acting because the client went away), "holds",
"cancels", "retrieves", "downloads", "list_calls", "deletes", "faults_injected",
"tls_handshake_failures" (with --tls-cert: connections whose TLS handshake failed).
Queue counters: "token_limit_failures" (batches failed with token_limit_exceeded),
"enqueued_tokens_peak" ({model: the highest sum of admitted, unfinished batches' tokens,
taken as each batch enters in_progress}), "enqueued_over_limit" (times that sum exceeded
enqueued_token_limit: always 0 unless the fake itself is wrong). "batches" lists every
batch in creation order: {id, status, metadata, requests (the line count), tokens (as
counted for the queue), model, input_file_id, created_seq (1, 2, ... since the reset)}.
Direct counters: "direct_requests" (authorized POSTs that arrived at the direct routes, faulted
or not), "direct_statuses" ({"200": n, "429": n, ...}: the direct answers sent, any cause),
"direct_429s" (429s of direct_rpm / direct_tpm only, not injected faults),
"direct_in_flight_peak" (the most direct requests between arrival and answer at once),
"direct_max_window" / "direct_max_window_tokens" (the most requests / tokens admitted, not
429, within any 60 s sliding window), "direct_log" (one entry per direct arrival, in arrival
order: {"t": monotonic seconds since the reset, "path", "status" (null: no answer, e.g. a
reset), "tokens" (as counted for the limits; null when the body is not a JSON object), "text"
(the echoed text, first 200 characters; null likewise), "fault" (the injected kind or null)}).
"""

import argparse
import copy
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BATCH_ENDPOINTS = (
    "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
)
DIRECT_ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                    "/v1/responses", "/v1/moderations")
TERMINAL = ("completed", "expired", "failed", "cancelled")
RESPONSE_FAULTS = ("429", "500", "503", "401")
HOLD_KINDS = ("hang_before", "hang_after", "stall", "slow")
FAULT_KINDS = RESPONSE_FAULTS + ("reset", "reset_after", "500_after", "truncate") + HOLD_KINDS
REDIRECT_FAULTS = ("302", "307")
FAULT_KINDS = FAULT_KINDS + REDIRECT_FAULTS + ("echo_auth",)
FAULT_DEFAULTS = {"seconds": 30, "rate": 4096}

DEFAULT_CONFIG = {
    "steps": 1,
    "final_status": "completed",
    "fail_custom_ids": [],
    "fail_every": 0,
    "partial_fraction": 0.5,
    "shuffle": True,
    "seed": 0,
    "fault_rate": 0.0,
    "fault_kinds": ["429", "500", "503", "reset"],
    "retry_after": "0",
    "retry_after_ms": None,
    "truncate_rate": 0.0,
    "redirect_location": None,
    "faults": [],
    "no_listing": [],
    "no_listing_status": 404,
    "max_requests_per_file": 0,
    "max_bytes_per_file": 0,
    "one_model_per_batch": False,
    "enqueued_token_limit": 0,
    "no_batch_api": False,
    "direct_latency_ms": 0,
    "direct_jitter_ms": 0,
    "direct_rpm": 0,
    "direct_tpm": 0,
    "rate_burst_seconds": 2,
    "direct_headers": True,
    "anthropic_results_base": None,
    "auth_header": "bearer",
    "required_query": {},
}
ORGANIZATION = "org-fake"  # named by the token_limit_exceeded and rate limit messages
WINDOW_SECONDS = 60  # the sliding window of direct_rpm / direct_tpm
BATCH_API_PATH = re.compile(r"/v1/(files|batches|inline_batches)(/|\Z)")  # no_batch_api
LISTINGS = {"files": "/v1/files", "batches": "/v1/batches"}
NO_LISTING_STATUSES = (404, 405, 501)

BATCH_OPTIONAL_FIELDS = (
    "model", "errors", "output_file_id", "error_file_id", "in_progress_at", "expires_at",
    "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at",
    "cancelled_at", "request_counts", "usage", "metadata",
)


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An OpenAI-style error answer: {"error": {message, type, param, code}}."""

    def __init__(self, status, message, param=None, code=None, type_="invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = (
            status, message, param, code, type_)

    def response(self):
        return error_response(self.status, self.message, self.type, self.param, self.code)


def bad_request(message, param=None, code=None):
    return ApiError(400, message, param, code)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    is_download: bool = False  # only downloads are subject to truncate_rate
    rate_limited: bool = False  # a 429 of direct_rpm / direct_tpm (not an injected fault)


def json_response(obj, status=200):
    return Response(status, json.dumps(obj).encode())


def error_response(status, message, type_="invalid_request_error", param=None, code=None,
                   headers=None):
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    resp = json_response(body, status)
    resp.headers = dict(headers or {})
    return resp


AUTH_ERROR = ("Incorrect API key provided", "invalid_request_error", None, "invalid_api_key")


def fault_response(kind, config):
    if kind == "401":
        return error_response(401, *AUTH_ERROR)
    if kind == "429":
        headers = {}
        if config["retry_after"] is not None:
            headers["Retry-After"] = str(config["retry_after"])
        if config["retry_after_ms"] is not None:
            headers["retry-after-ms"] = str(config["retry_after_ms"])
        return error_response(429, "Rate limit reached for requests (fake)", "requests",
                              None, "rate_limit_exceeded", headers)
    if kind == "503":
        return error_response(503, "The server is overloaded (fake)", "server_error")
    return error_response(500, "The server had an error processing your request (fake)",
                          "server_error")


# --------------------------------------------------------------------------- config


def validate_fault(spec):
    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
        raise ValueError(f"bad fault {spec!r}: needs a kind in {list(FAULT_KINDS)}")
    unknown = set(spec) - {"method", "path", "path_prefix", "path_suffix", "kind", "count",
                           "skip", "seconds", "rate"}
    if unknown:
        raise ValueError(f"bad fault {spec!r}: unknown keys {sorted(unknown)}")
    fault = dict(spec)
    fault.setdefault("count", 1)
    fault.setdefault("skip", 0)
    if not all(isinstance(fault[k], int) and fault[k] >= 0 for k in ("count", "skip")):
        raise ValueError(f"bad fault {spec!r}: count and skip are integers >= 0")
    for key, default in FAULT_DEFAULTS.items():
        fault.setdefault(key, default)
        value = fault[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"bad fault {spec!r}: {key} must be a number > 0")
    return fault


def merged_config(base, update):
    """Return base updated with `update`, or raise ValueError naming the bad key.

    Unknown keys are rejected so that a typo in a test does not silently do nothing."""
    if not isinstance(update, dict):
        raise ValueError("config must be a JSON object")
    unknown = set(update) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}")
    cfg = copy.deepcopy(base)
    cfg.update(copy.deepcopy(update))

    def check(ok, key, what):
        if not ok:
            raise ValueError(f"config {key}: {what}")

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def is_number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    def is_fraction(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1

    check(is_int(cfg["steps"]) and cfg["steps"] >= 0, "steps", "integer >= 0")
    check(cfg["final_status"] in TERMINAL, "final_status", f"one of {TERMINAL}")
    check(isinstance(cfg["fail_custom_ids"], list), "fail_custom_ids", "list")
    check(is_int(cfg["fail_every"]) and cfg["fail_every"] >= 0, "fail_every", "integer >= 0")
    check(isinstance(cfg["shuffle"], bool), "shuffle", "boolean")
    check(is_int(cfg["seed"]), "seed", "integer")
    for key in ("partial_fraction", "fault_rate", "truncate_rate"):
        check(is_fraction(cfg[key]), key, "number in 0..1")
    check(isinstance(cfg["fault_kinds"], list) and cfg["fault_kinds"]
          and all(k in FAULT_KINDS for k in cfg["fault_kinds"]),
          "fault_kinds", f"non-empty list of {list(FAULT_KINDS)}")
    check(isinstance(cfg["faults"], list), "faults", "list")
    check(cfg["redirect_location"] is None or isinstance(cfg["redirect_location"], str),
          "redirect_location", "string or null")
    check(isinstance(cfg["no_listing"], list) and all(n in LISTINGS for n in cfg["no_listing"]),
          "no_listing", f"list of {sorted(LISTINGS)}")
    check(cfg["no_listing_status"] in NO_LISTING_STATUSES and is_int(cfg["no_listing_status"]),
          "no_listing_status", f"one of {NO_LISTING_STATUSES}")
    for key in ("max_requests_per_file", "max_bytes_per_file", "enqueued_token_limit"):
        check(is_int(cfg[key]) and cfg[key] >= 0, key, "integer >= 0 (0 = no limit)")
    check(isinstance(cfg["one_model_per_batch"], bool), "one_model_per_batch", "boolean")
    for key in ("no_batch_api", "direct_headers"):
        check(isinstance(cfg[key], bool), key, "boolean")
    for key in ("direct_latency_ms", "direct_jitter_ms"):
        check(is_number(cfg[key]) and cfg[key] >= 0, key, "number >= 0 (milliseconds)")
    for key in ("direct_rpm", "direct_tpm"):
        check(is_int(cfg[key]) and cfg[key] >= 0, key, "integer >= 0 (0 = no limit)")
    check(is_number(cfg["rate_burst_seconds"]) and cfg["rate_burst_seconds"] > 0,
          "rate_burst_seconds", "number > 0")
    check(cfg["anthropic_results_base"] is None or isinstance(cfg["anthropic_results_base"], str),
          "anthropic_results_base", "string or null")
    check(isinstance(cfg["auth_header"], str) and cfg["auth_header"], "auth_header",
          "\"bearer\" or a header name")
    check(isinstance(cfg["required_query"], dict)
          and all(isinstance(v, str) for v in cfg["required_query"].values()),
          "required_query", "object of strings")
    if "faults" in update:
        cfg["faults"] = [validate_fault(f) for f in cfg["faults"]]
    return cfg


def fault_matches(fault, method, path):
    if fault.get("method") and fault["method"].upper() != method:
        return False
    if "path" in fault and fault["path"].rstrip("/") != path:
        return False
    if "path_prefix" in fault and not path.startswith(fault["path_prefix"]):
        return False
    if "path_suffix" in fault and not path.endswith(fault["path_suffix"]):
        return False
    return True


# --------------------------------------------------------------------------- parsing


def parse_multipart(content_type, body):
    """Split a multipart/form-data body into {name: (filename, bytes)}.

    Manual split on CRLF--boundary keeps the file bytes exactly as sent (the email
    package would be free to rewrite line endings of the payload)."""
    header = Message()
    header["Content-Type"] = content_type or ""
    boundary = header.get_boundary()
    if header.get_content_type() != "multipart/form-data" or not boundary:
        raise bad_request("Expected a multipart/form-data body with a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    parts, closed = {}, False
    for chunk in chunks[1:]:  # chunks[0] is the preamble
        if chunk.startswith(b"--"):
            closed = True
            break
        _, _, chunk = chunk.partition(b"\r\n")  # rest of the delimiter line
        if chunk.startswith(b"\r\n"):
            head, content = b"", chunk[2:]
        else:
            head, _, content = chunk.partition(b"\r\n\r\n")
        part = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = (part.get_filename(), content)
    if not closed:
        raise bad_request("Malformed multipart body: no closing boundary")
    return parts


def check_request_line(obj, number, seen_ids, first_url):
    """Raise a 400 naming the line when one input line breaks the batch format."""
    where = f"Line {number}"
    if not isinstance(obj, dict):
        raise bad_request(f"{where}: expected a JSON object", "file")
    cid = obj.get("custom_id")
    if not isinstance(cid, str) or not cid:
        raise bad_request(f"{where}: missing or non-string 'custom_id'", "file")
    if cid in seen_ids:
        raise bad_request(f"{where}: duplicate custom_id '{cid}'", "file")
    if obj.get("method") != "POST":
        raise bad_request(f"{where}: 'method' must be \"POST\"", "file")
    if not isinstance(obj.get("url"), str):
        raise bad_request(f"{where}: missing or non-string 'url'", "file")
    if first_url is not None and obj["url"] != first_url:
        raise bad_request(f"{where}: url '{obj['url']}' differs from the first line's "
                          f"'{first_url}'; all lines must use the same url", "file")
    if not isinstance(obj.get("body"), dict):
        raise bad_request(f"{where}: 'body' must be a JSON object", "file")


def parse_batch_lines(data):
    """Parse and check a batch input file; return its requests with line numbers."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The batch input file is not valid UTF-8", "file") from None
    requests, seen_ids, first_url = [], set(), None
    for number, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            raise bad_request(f"Line {number}: not valid JSON", "file") from None
        check_request_line(obj, number, seen_ids, first_url)
        seen_ids.add(obj["custom_id"])
        first_url = obj["url"]
        requests.append({"line": number, "position": len(requests) + 1, **obj})
    if not requests:
        raise bad_request("The batch input file contains no requests", "file")
    return requests


def prompt_tokens(body):
    """A request's prompt tokens for the enqueued token limit: exact, so a test can
    predict it; a client estimating ceil(line bytes / 4) never counts fewer."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return max(1, len(text.encode("utf-8")) // 4)


def limit_errors(requests, config):
    """The errors.data entries for the batch limits in config (fails at validating)."""
    errors = []
    most = config["max_requests_per_file"]
    if most and len(requests) > most:
        errors.append({"code": "too_many_requests", "line": None, "param": None,
                       "message": f"The batch input file has {len(requests)} requests; "
                                  f"at most {most} are allowed per batch."})
    # Lines without a "model" name none, so they mix with any.
    named = [r for r in requests if "model" in r["body"]] if config["one_model_per_batch"] else []
    other = next((r for r in named if r["body"]["model"] != named[0]["body"]["model"]), None)
    if other is not None:
        first, second = (model_name(r["body"]["model"]) for r in (named[0], other))
        errors.append({"code": "mixed_models", "line": other["line"], "param": "body.model",
                       "message": f"The batch input file names more than one model "
                                  f"('{first}' and '{second}'); all requests of a batch "
                                  "must use the same model."})
    return errors


def model_name(model):
    return model if isinstance(model, str) else json.dumps(model)


def parse_json_body(body):
    try:
        obj = json.loads(body or b"null")
    except ValueError:
        raise bad_request("We could not parse the JSON body of your request.") from None
    if not isinstance(obj, dict):
        raise bad_request("The request body must be a JSON object.")
    return obj


def check_metadata(metadata):
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise bad_request("'metadata' must be an object", "metadata")
    if len(metadata) > 16:
        raise bad_request(f"'metadata' has {len(metadata)} pairs; at most 16 allowed",
                          "metadata")
    for key, value in metadata.items():
        if len(key) > 64:
            raise bad_request("'metadata' keys are at most 64 characters", "metadata")
        if not isinstance(value, str) or len(value) > 512:
            raise bad_request(f"'metadata' value for '{key}' must be a string of at most "
                              "512 characters", "metadata")


# --------------------------------------------------------------------------- results


def new_id(prefix):
    return prefix + secrets.token_hex(12)


def estimate_tokens(value):
    # Deterministic and roughly the size of the input; the exact count is irrelevant.
    return max(1, len(json.dumps(value)) // 4) if value is not None else 1


def fake_result_body(endpoint, custom_id, request_body):
    """Return (response body, input tokens, output tokens) for one successful line."""
    model = request_body.get("model")
    now = int(time.time())
    if endpoint == "/v1/chat/completions":
        content = f"echo: {custom_id}"
        prompt = estimate_tokens(request_body.get("messages"))
        completion = len(content.split())
        body = {
            "id": new_id("chatcmpl-"), "object": "chat.completion", "created": now,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }
        return body, prompt, completion
    if endpoint == "/v1/messages":
        content = f"echo: {custom_id}"
        prompt = estimate_tokens(request_body.get("messages"))
        completion = len(content.split())
        body = {"id": new_id("msg_"), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": content}], "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": prompt, "output_tokens": completion}}
        return body, prompt, completion
    if endpoint == "/v1/embeddings":
        prompt = estimate_tokens(request_body.get("input"))
        body = {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
            "model": model, "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
        }
        return body, prompt, 0
    body = {"id": new_id("fake_"), "object": "fake.result", "created": now,
            "model": model, "custom_id": custom_id}
    return body, 0, 0


def token_limit_error(model, limit):
    # OpenAI's words, the limit written with thousands separators ("90,000").
    return {"code": "token_limit_exceeded", "line": None, "param": None,
            "message": f"Enqueued token limit reached for {model} in organization "
                       f"{ORGANIZATION}. Limit: {limit:,} enqueued tokens. Please try "
                       "submitting your batch again later."}


def output_line(custom_id, status_code, body):
    return {"id": new_id("batch_req_"), "custom_id": custom_id,
            "response": {"status_code": status_code, "request_id": new_id("req_"),
                         "body": body},
            "error": None}


def failure_body(custom_id):
    return {"error": {"message": f"fake failure for {custom_id}",
                      "type": "invalid_request_error", "param": None, "code": "fake_failure"}}


def usage_object(input_tokens=0, output_tokens=0):
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens}


def reorder(lines, rng, shuffle):
    """Shuffle lines; with 3 or more lines never leave them in input order, so a client
    that matches results by position rather than custom_id is caught every time."""
    if not shuffle:
        return lines
    order = list(lines)
    rng.shuffle(order)
    if len(order) >= 3 and all(a is b for a, b in zip(order, lines)):
        order = order[1:] + order[:1]
    return order


def paginate(items, after, limit):
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    page = items[:limit]
    return {"object": "list", "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit}


# --------------------------------------------------------------------------- direct mode


def content_text(content):
    """A message content as text: a string, or the "text" of its parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content
                       if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def input_items(value):
    """The items of an embeddings / moderations input or a completions prompt."""
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value] or [""]
    return [value if isinstance(value, str) else ""]


def direct_text(path, body):
    """The text a direct answer echoes (and the FAIL400 / FAIL500 markers are looked for in)."""
    if path == "/v1/chat/completions":
        messages = body.get("messages")
        last = messages[-1] if isinstance(messages, list) and messages else None
        return content_text(last.get("content")) if isinstance(last, dict) else ""
    if path == "/v1/responses":
        value = body.get("input")
        if isinstance(value, list):
            last = value[-1] if value else None
            if isinstance(last, dict):
                return content_text(last.get("content"))
            return last if isinstance(last, str) else ""
        return value if isinstance(value, str) else ""
    key = "prompt" if path == "/v1/completions" else "input"
    return "\n".join(input_items(body.get(key)))


def request_tokens(body):
    """Tokens a direct request counts against direct_tpm: prompt estimate plus the most it
    may generate, as OpenAI counts max_tokens against the limit before anything is generated."""
    tokens = prompt_tokens(body)
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return tokens + value
    return tokens


def fake_embedding(text):
    # Deterministic in the input alone, so a test can recompute it.
    return [round(b / 255, 4) for b in hashlib.sha256(text.encode("utf-8")).digest()[:4]]


def direct_answer(path, body, text):
    """The 200 body of a direct request."""
    model, now, prompt = body.get("model"), int(time.time()), prompt_tokens(body)
    if path == "/v1/chat/completions":
        content = "echo: " + text
        words = len(content.split())
        return {"id": new_id("chatcmpl-"), "object": "chat.completion", "created": now,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": words,
                          "total_tokens": prompt + words}}
    if path == "/v1/embeddings":
        items = input_items(body.get("input"))
        return {"object": "list", "model": model,
                "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(item)}
                         for i, item in enumerate(items)],
                "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}
    if path == "/v1/completions":
        items = input_items(body.get("prompt"))
        words = sum(len(("echo: " + item).split()) for item in items)
        return {"id": new_id("cmpl-"), "object": "text_completion", "created": now,
                "model": model,
                "choices": [{"text": "echo: " + item, "index": i, "logprobs": None,
                             "finish_reason": "stop"} for i, item in enumerate(items)],
                "usage": {"prompt_tokens": prompt, "completion_tokens": words,
                          "total_tokens": prompt + words}}
    if path == "/v1/responses":
        content = "echo: " + text
        words = len(content.split())
        return {"id": new_id("resp_"), "object": "response", "created_at": now,
                "status": "completed", "model": model,
                "output": [{"type": "message", "id": new_id("msg_"), "status": "completed",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": content,
                                         "annotations": []}]}],
                "usage": {"input_tokens": prompt, "output_tokens": words,
                          "total_tokens": prompt + words}}
    return {"id": new_id("modr-"), "model": model,  # /v1/moderations
            "results": [{"flagged": False, "categories": {}, "category_scores": {}}
                        for _ in input_items(body.get("input"))]}


def ceil_ms(seconds):
    # Rounded to the microsecond first, so 0.1 s is 100 ms, not 101.
    return max(0, math.ceil(round(seconds * 1000, 3)))


def go_duration(seconds):
    """Seconds as Go's time.Duration prints them (OpenAI's x-ratelimit-reset-* values),
    rounded up to the millisecond: "0s", "120ms", "1s", "1m30.5s", "6m0s", "1h0m0s"."""
    ms = ceil_ms(seconds)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3600000)
    minutes, rest = divmod(rest, 60000)
    secs = str(rest // 1000) + (f".{rest % 1000:03d}".rstrip("0") if rest % 1000 else "")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


class TokenBucket:
    """The short-period part of a per-minute limit: holds `burst` seconds' worth."""

    def __init__(self, limit, burst, now):
        self.key = (limit, burst)
        self.rate = limit / 60
        self.capacity = max(1.0, self.rate * burst)
        self.level, self.at = self.capacity, now

    def refill(self, now):
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def wait(self, need):
        # A request larger than the whole bucket needs it full (then leaves it in debt),
        # else it could never pass however long it waited.
        return max(0.0, (min(need, self.capacity) - self.level) / self.rate)

    def full_in(self):
        return max(0.0, (self.capacity - self.level) / self.rate)


def rate_limit_response(kind, limit, used, need, wait, model):
    """OpenAI's 429 for a direct request over direct_rpm / direct_tpm."""
    unit = "RPM" if kind == "requests" else "TPM"
    where = f"for {model_name(model) if model is not None else 'the model'} in organization " \
            f"{ORGANIZATION}"
    if need > limit:
        message = (f"Request too large for tokens per min (TPM) {where}: Limit {limit}, "
                   f"Requested {need}. The input or output tokens must be reduced in order "
                   "to run successfully.")
    else:
        message = (f"Rate limit reached for {kind} per min ({unit}) {where}: Limit {limit}, "
                   f"Used {used}, Requested {need}. Please try again in {go_duration(wait)}.")
    ms = max(1, ceil_ms(wait))
    resp = error_response(429, message, kind, None, "rate_limit_exceeded",
                          {"retry-after-ms": str(ms), "retry-after": str(math.ceil(ms / 1000))})
    resp.rate_limited = True
    return resp


# --------------------------------------------------------------------------- state


@dataclass
class StoredFile:
    obj: dict
    data: bytes
    seq: int


@dataclass
class BatchRecord:
    obj: dict  # the OpenAI batch object (an Anthropic batch is shown from it)
    requests: list            # parsed input lines, in input order
    seq: int
    seen: int = 0             # retrieves that observed the current stage
    errors: list = field(default_factory=list)  # limits broken, lines whose url != endpoint
    tokens: int = 0           # prompt tokens, for enqueued_token_limit
    created_seq: int = 0      # 1, 2, ... among batches since the reset
    admitted: bool = False    # passed validating: counts in its model's enqueued tokens
    anthropic: bool = False   # made by POST /v1/messages/batches


class State:
    """All files, batches, stats and config. Every public method takes the lock."""

    def __init__(self, config):
        self.lock = threading.RLock()
        self.config = config
        self.held, self.held_seq = {}, 0  # id -> (entry, release event); kept over reset
        self.direct_in_flight = 0  # kept over reset: those requests are still running
        self.reset()

    def reset(self):
        with self.lock:
            self.files, self.batches, self.seq = {}, {}, 0
            self.fault_rng = random.Random(f"{self.config['seed']}:faults")
            self.stats = {"uploads": 0, "batches_created": 0, "cancels": 0, "retrieves": 0,
                          "downloads": 0, "list_calls": 0, "deletes": 0,
                          "faults_injected": 0, "upload_attempts": 0, "create_attempts": 0,
                          "abandoned": 0, "holds": 0, "requests": []}
            self.stats["tls_handshake_failures"] = 0
            self.stats.update(token_limit_failures=0, enqueued_tokens_peak={},
                              enqueued_over_limit=0)
            self.stats.update(direct_requests=0, direct_statuses={}, direct_429s=0,
                              direct_in_flight_peak=self.direct_in_flight, direct_log=[],
                              direct_max_window=0, direct_max_window_tokens=0)
            self.direct_epoch = time.monotonic()
            self.direct_rng = random.Random(f"{self.config['seed']}:direct")
            # Admitted direct requests (monotonic time, tokens) of the last 60 s; buckets
            # start full.
            self.window, self.window_tokens, self.buckets = deque(), 0, {}

    def _next_seq(self):
        self.seq += 1
        return self.seq

    # ---- config, stats and faults

    def update_config(self, update):
        with self.lock:
            self.config = merged_config(self.config, update)
            if "seed" in update:
                self.fault_rng = random.Random(f"{self.config['seed']}:faults")
                self.direct_rng = random.Random(f"{self.config['seed']}:direct")
            return copy.deepcopy(self.config)

    def snapshot_stats(self):
        with self.lock:
            stats = copy.deepcopy(self.stats)
            stats["held"] = self.held_requests()
            stats["batches"] = [
                {"id": b.obj["id"], "status": b.obj["status"],
                 "metadata": copy.deepcopy(b.obj["metadata"]), "requests": len(b.requests),
                 "tokens": b.tokens, "model": b.obj["model"],
                 "input_file_id": b.obj["input_file_id"], "created_seq": b.created_seq}
                for b in sorted(self.batches.values(), key=lambda b: b.seq)]
            return stats

    def count_attempt(self, method, path):
        """Counts an authorized upload or batch creation that arrived (acted on or not)."""
        key = None
        if method == "POST" and path == "/v1/files":
            key = "upload_attempts"
        elif method == "POST" and path in ("/v1/batches", "/v1/inline_batches",
                                           "/v1/messages/batches"):
            key = "create_attempts"
        if key:
            self.count(key)

    # ---- held requests (hang_before, hang_after, stall, slow)

    def hold_begin(self, info):
        """Registers a held request; returns (id, event set by release())."""
        with self.lock:
            self.held_seq += 1
            entry = dict(info, id=self.held_seq, since=time.time())
            event = threading.Event()
            self.held[entry["id"]] = (entry, event)
            self.stats["holds"] += 1
            return entry["id"], event

    def hold_progress(self, hold_id, bytes_done):
        with self.lock:
            if hold_id in self.held:
                self.held[hold_id][0]["bytes_done"] = bytes_done

    def hold_end(self, hold_id):
        with self.lock:
            self.held.pop(hold_id, None)

    def held_requests(self):
        with self.lock:
            return [dict(self.held[k][0]) for k in sorted(self.held)]

    def release(self, hold_id=None):
        with self.lock:
            events = [ev for k, (_, ev) in self.held.items() if hold_id in (None, k)]
        for event in events:
            event.set()
        return len(events)

    def log_request(self, record):
        with self.lock:
            self.stats["requests"].append(record)

    def count(self, key):
        with self.lock:
            self.stats[key] += 1

    def pick_fault(self, method, path):
        """The kind of the fault for this request, or None (see pick_fault_spec)."""
        spec = self.pick_fault_spec(method, path)
        return spec["kind"] if spec else None

    def pick_fault_spec(self, method, path):
        """Targeted faults first (in list order), then a random one per fault_rate.
        Returns None or {"kind", "seconds", "rate"}."""
        with self.lock:
            for fault in self.config["faults"]:
                if fault["count"] <= 0 or not fault_matches(fault, method, path):
                    continue
                if fault["skip"] > 0:
                    fault["skip"] -= 1
                    continue
                fault["count"] -= 1
                self.stats["faults_injected"] += 1
                return {"kind": fault["kind"], "seconds": fault["seconds"],
                        "rate": fault["rate"]}
            rate = self.config["fault_rate"]
            if rate > 0 and self.fault_rng.random() < rate:
                self.stats["faults_injected"] += 1
                return dict(FAULT_DEFAULTS, kind=self.fault_rng.choice(self.config["fault_kinds"]))
            return None

    def should_truncate(self):
        with self.lock:
            rate = self.config["truncate_rate"]
            if rate > 0 and self.fault_rng.random() < rate:
                self.stats["faults_injected"] += 1
                return True
            return False

    # ---- direct mode: arrivals, limits, answers

    def direct_arrive(self, path, fault):
        """Counts an authorized direct request; returns its direct_log entry."""
        with self.lock:
            self.direct_in_flight += 1
            self.stats["direct_requests"] += 1
            self.stats["direct_in_flight_peak"] = max(self.stats["direct_in_flight_peak"],
                                                      self.direct_in_flight)
            entry = {"t": time.monotonic() - self.direct_epoch, "path": path, "status": None,
                     "tokens": None, "text": None, "fault": fault}
            self.stats["direct_log"].append(entry)
            return entry

    def direct_note_body(self, entry, body):
        try:
            obj = json.loads(body or b"null")
        except ValueError:
            return
        if isinstance(obj, dict):
            with self.lock:
                entry.update(tokens=request_tokens(obj),
                             text=direct_text(entry["path"], obj)[:200])

    def direct_answered(self, entry, resp):
        with self.lock:
            if resp is None:
                return
            entry["status"] = resp.status
            statuses = self.stats["direct_statuses"]
            statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
            if resp.rate_limited:
                self.stats["direct_429s"] += 1

    def direct_leave(self):
        with self.lock:
            self.direct_in_flight -= 1

    def direct_delay(self):
        with self.lock:
            jitter = self.config["direct_jitter_ms"]
            extra = self.direct_rng.uniform(0, jitter) if jitter > 0 else 0
            return (self.config["direct_latency_ms"] + extra) / 1000

    def _direct_limits(self, now):
        """[(kind, limit, bucket, used in the window)] for the limits set, window pruned."""
        while self.window and self.window[0][0] <= now - WINDOW_SECONDS:
            self.window_tokens -= self.window.popleft()[1]
        limits = []
        for kind, key, used in (("requests", "direct_rpm", len(self.window)),
                                ("tokens", "direct_tpm", self.window_tokens)):
            limit = self.config[key]
            if not limit:
                self.buckets.pop(kind, None)
                continue
            bucket = self.buckets.get(kind)
            if bucket is None or bucket.key != (limit, self.config["rate_burst_seconds"]):
                bucket = self.buckets[kind] = TokenBucket(
                    limit, self.config["rate_burst_seconds"], now)
            bucket.refill(now)
            limits.append((kind, limit, bucket, used))
        return limits

    def _window_wait(self, kind, limit, need, now):
        """Seconds until the 60 s window has room for `need` more (0: room now)."""
        weight = (lambda e: 1) if kind == "requests" else (lambda e: e[1])
        total = len(self.window) if kind == "requests" else self.window_tokens
        if total + need <= limit:
            return 0.0
        for entry in self.window:  # oldest first: the order they leave the window
            total -= weight(entry)
            if total + need <= limit:
                return entry[0] + WINDOW_SECONDS - now
        return float(WINDOW_SECONDS)

    def direct_admit(self, tokens, model):
        """Admits a direct request under direct_rpm / direct_tpm (None), or returns its 429.
        A refused request takes nothing from the window or the buckets."""
        with self.lock:
            now = time.monotonic()
            limits = self._direct_limits(now)
            worst = None  # (wait, kind, limit, used, need)
            for kind, limit, bucket, used in limits:
                need = 1 if kind == "requests" else tokens
                if need > limit:
                    worst = (float(WINDOW_SECONDS), kind, limit, used, need)
                    break
                wait = max(bucket.wait(need), self._window_wait(kind, limit, need, now))
                if wait > 0 and (worst is None or wait > worst[0]):
                    worst = (wait, kind, limit, used, need)
            if worst is not None:
                wait, kind, limit, used, need = worst
                return rate_limit_response(kind, limit, used, need, wait, model)
            for kind, _, bucket, _ in limits:
                bucket.level -= 1 if kind == "requests" else tokens
            self.window.append((now, tokens))
            self.window_tokens += tokens
            # Every window is at its fullest right after an admission: checking here sees all.
            self.stats["direct_max_window"] = max(self.stats["direct_max_window"],
                                                  len(self.window))
            self.stats["direct_max_window_tokens"] = max(
                self.stats["direct_max_window_tokens"], self.window_tokens)
            return None

    def ratelimit_headers(self):
        """OpenAI's x-ratelimit-* headers for the limits set (none with direct_headers off)."""
        with self.lock:
            if not self.config["direct_headers"]:
                return {}
            now = time.monotonic()
            headers = {}
            for kind, limit, bucket, used in self._direct_limits(now):
                empty_in = self.window[-1][0] + WINDOW_SECONDS - now if self.window else 0.0
                remaining = max(0, min(math.floor(bucket.level), limit - used))
                headers[f"x-ratelimit-limit-{kind}"] = str(limit)
                headers[f"x-ratelimit-remaining-{kind}"] = str(remaining)
                headers[f"x-ratelimit-reset-{kind}"] = go_duration(max(bucket.full_in(),
                                                                       empty_in))
            return headers

    # ---- files

    def _store_file(self, filename, purpose, data, expires_at=None):
        obj = {"id": new_id("file-"), "object": "file", "bytes": len(data),
               "created_at": int(time.time()), "filename": filename, "purpose": purpose,
               "status": "processed", "expires_at": expires_at, "status_details": None}
        self.files[obj["id"]] = StoredFile(obj, data, self._next_seq())
        return obj

    def create_file(self, filename, purpose, data, expires_after_seconds=None):
        if purpose != "batch":
            raise bad_request(f"Invalid purpose '{purpose}': this fake only accepts 'batch'",
                              "purpose")
        most = self.config["max_bytes_per_file"]
        if most and len(data) > most:
            # Checked before the lines, as a size limit is: nothing is stored.
            raise bad_request(f"File too large: {len(data)} bytes; at most {most} bytes "
                              "are allowed per batch input file.", "file")
        parse_batch_lines(data)
        with self.lock:
            expires_at = None
            if expires_after_seconds is not None:
                expires_at = int(time.time()) + expires_after_seconds
            obj = self._store_file(filename or "upload.jsonl", purpose, data, expires_at)
            self.stats["uploads"] += 1
            return dict(obj)

    def store_inline_input(self, data):
        """Keeps the requests of an inline batch as its input file (not an upload)."""
        parse_batch_lines(data)
        with self.lock:
            return self._store_file("inline-input.jsonl", "batch", data)["id"]

    def _file(self, file_id):
        stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(404, f"No such File object: {file_id}", "id")
        return stored

    def get_file(self, file_id):
        with self.lock:
            return dict(self._file(file_id).obj)

    def file_content(self, file_id):
        with self.lock:
            data = self._file(file_id).data
            self.stats["downloads"] += 1
            return data

    def delete_file(self, file_id):
        with self.lock:
            self._file(file_id)
            del self.files[file_id]
            self.stats["deletes"] += 1
            return {"id": file_id, "object": "file", "deleted": True}

    def list_files(self, purpose, after, limit, order):
        with self.lock:
            self.stats["list_calls"] += 1
            stored = sorted(self.files.values(), key=lambda f: f.seq,
                            reverse=(order == "desc"))
            items = [dict(f.obj) for f in stored if purpose is None or f.obj["purpose"] == purpose]
            return paginate(items, after, limit)

    # ---- batches

    def create_batch(self, input_file_id, endpoint, metadata, anthropic=False):
        with self.lock:
            stored = self.files.get(input_file_id)
            if stored is None:
                raise ApiError(404, f"No such File object: {input_file_id}", "input_file_id")
            if stored.obj["purpose"] != "batch":
                raise bad_request(f"File {input_file_id} does not have purpose 'batch'",
                                  "input_file_id")
            requests = parse_batch_lines(stored.data)
            now = int(time.time())
            model = requests[0]["body"].get("model")
            obj = {"id": new_id("msgbatch_" if anthropic else "batch_"), "object": "batch",
                   "endpoint": endpoint,
                   "input_file_id": input_file_id, "completion_window": "24h",
                   "status": "validating", "created_at": now}
            obj.update({key: None for key in BATCH_OPTIONAL_FIELDS})
            obj.update({"model": model if isinstance(model, str) else None,
                        "expires_at": now + 24 * 3600, "metadata": metadata,
                        "request_counts": {"total": len(requests), "completed": 0,
                                           "failed": 0}})
            url_errors = [
                {"code": "invalid_url", "param": "url", "line": r["line"],
                 "message": f"The URL provided for this request does not match the batch "
                            f"endpoint {endpoint}: {r['url']}"}
                for r in requests if r["url"] != endpoint]
            batch = BatchRecord(obj, requests, self._next_seq(),
                                errors=limit_errors(requests, self.config) + url_errors,
                                tokens=sum(prompt_tokens(r["body"]) for r in requests),
                                created_seq=len(self.batches) + 1, anthropic=anthropic)
            self.batches[obj["id"]] = batch
            self.stats["batches_created"] += 1
            return copy.deepcopy(obj)

    def _batch(self, batch_id):
        batch = self.batches.get(batch_id)
        if batch is None:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", "batch_id")
        return batch

    def retrieve_batch(self, batch_id):
        with self.lock:
            batch = self._batch(batch_id)
            self.stats["retrieves"] += 1
            self._tick(batch)
            return copy.deepcopy(batch.obj)

    def cancel_batch(self, batch_id):
        with self.lock:
            batch = self._batch(batch_id)
            status = batch.obj["status"]
            if status in TERMINAL:
                raise bad_request(f"Cannot cancel a batch with status '{status}'.")
            if status != "cancelling":
                batch.obj.update(status="cancelling", cancelling_at=int(time.time()))
                batch.seen = 0
            self.stats["cancels"] += 1
            return copy.deepcopy(batch.obj)

    def list_batches(self, after, limit, anthropic=False):
        """Newest first; OpenAI's listing and Anthropic's each show their own batches."""
        with self.lock:
            self.stats["list_calls"] += 1
            newest_first = sorted((b for b in self.batches.values() if b.anthropic == anthropic),
                                  key=lambda b: b.seq, reverse=True)
            return paginate([copy.deepcopy(b.obj) for b in newest_first], after, limit)

    # ---- Anthropic's view of the same batches

    def anthropic_batch(self, batch_id):
        batch = self.batches.get(batch_id)
        if batch is None or not batch.anthropic:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", type_="not_found_error")
        return batch

    def anthropic_outcomes(self, batch):
        """[(request, "succeeded" | "errored" | "canceled" | "expired")] of an ended batch."""
        status = batch.obj["status"]
        done = len(batch.requests)
        if status in ("expired", "cancelled"):
            done = int(len(batch.requests) * self.config["partial_fraction"])
        missing = "expired" if status == "expired" else "canceled"
        return [(r, missing if i >= done else "errored" if self._is_failing(r) else "succeeded")
                for i, r in enumerate(batch.requests)]

    def anthropic_view(self, batch, results_base):
        obj = batch.obj
        status = obj["status"]
        ended = status in TERMINAL
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            for _, outcome in self.anthropic_outcomes(batch):
                counts[outcome] += 1
        else:
            counts["processing"] = len(batch.requests)
        ended_at = next((obj[f"{s}_at"] for s in TERMINAL if obj.get(f"{s}_at")), None)
        return {"id": obj["id"], "type": "message_batch",
                "processing_status": "ended" if ended else
                "canceling" if status == "cancelling" else "in_progress",
                "request_counts": counts,
                "ended_at": rfc3339(ended_at) if ended else None,
                "created_at": rfc3339(obj["created_at"], micros=True),
                "expires_at": rfc3339(obj["expires_at"]),
                "archived_at": None,
                "cancel_initiated_at": rfc3339(obj["cancelling_at"]) if obj["cancelling_at"]
                else None,
                "results_url": f"{results_base}/v1/messages/batches/{obj['id']}/results"
                if ended else None}

    def create_anthropic_batch(self, requests, results_base):
        data = "".join(json.dumps(r) + "\n" for r in requests).encode()
        with self.lock:
            file_id = self._store_file("anthropic-requests.jsonl", "batch", data)["id"]
            obj = self.create_batch(file_id, "/v1/messages", None, anthropic=True)
            return self.anthropic_view(self.batches[obj["id"]], results_base)

    def retrieve_anthropic(self, batch_id, results_base):
        with self.lock:
            batch = self.anthropic_batch(batch_id)
            self.stats["retrieves"] += 1
            self._tick(batch)
            return self.anthropic_view(batch, results_base)

    def cancel_anthropic(self, batch_id, results_base):
        with self.lock:
            self.anthropic_batch(batch_id)
            self.cancel_batch(batch_id)
            return self.anthropic_view(self.batches[batch_id], results_base)

    def list_anthropic(self, after_id, limit, results_base):
        with self.lock:
            page = self.list_batches(after_id, limit, anthropic=True)
            return {"data": [self.anthropic_view(self.batches[b["id"]], results_base)
                             for b in page["data"]],
                    "has_more": page["has_more"], "first_id": page["first_id"],
                    "last_id": page["last_id"]}

    def anthropic_results(self, batch_id):
        with self.lock:
            batch = self.anthropic_batch(batch_id)
            if batch.obj["status"] not in TERMINAL:
                raise bad_request(f"Batch '{batch_id}' has not ended yet; results are not "
                                  "available.")
            lines = []
            for request, outcome in self.anthropic_outcomes(batch):
                cid = request["custom_id"]
                result = {"type": outcome}
                if outcome == "succeeded":
                    result["message"] = fake_result_body("/v1/messages", cid, request["body"])[0]
                elif outcome == "errored":
                    result["error"] = {"type": "error", "error": {
                        "type": "invalid_request_error", "message": f"fake failure for {cid}"}}
                lines.append({"custom_id": cid, "result": result})
            rng = random.Random(f"{self.config['seed']}:shuffle:{batch.seq}")
            lines = reorder(lines, rng, self.config["shuffle"])
            self.stats["downloads"] += 1
            return "".join(json.dumps(line) + "\n" for line in lines).encode()

    def advance_batch(self, batch_id, status):
        with self.lock:
            batch = self._batch(batch_id)
            if status not in TERMINAL:
                raise bad_request(f"status must be one of {TERMINAL}", "status")
            if batch.obj["status"] in TERMINAL:
                raise bad_request(f"Batch is already {batch.obj['status']}", "status")
            self._finish(batch, status)
            return copy.deepcopy(batch.obj)

    # ---- lifecycle

    def _tick(self, batch):
        """One retrieve: leave stages that have been seen `steps` times, then count this
        retrieve as seeing the (possibly new) stage."""
        steps = self.config["steps"]
        while batch.obj["status"] not in TERMINAL and batch.seen >= steps:
            self._advance(batch)
        if batch.obj["status"] not in TERMINAL:
            batch.seen += 1
            if batch.obj["status"] == "in_progress":
                self._show_progress(batch)

    def _advance(self, batch):
        obj, now = batch.obj, int(time.time())
        status = obj["status"]
        batch.seen = 0
        if status == "cancelling":
            self._finish(batch, "cancelled")
        elif status == "validating":
            if batch.errors or self.config["final_status"] == "failed":
                self._finish(batch, "failed")
            elif self._over_token_limit(batch):
                self.stats["token_limit_failures"] += 1
                self._finish(batch, "failed", [token_limit_error(
                    obj["model"], self.config["enqueued_token_limit"])])
            else:
                obj.update(status="in_progress", in_progress_at=now)
                batch.admitted = True
                self._note_enqueued(obj["model"])
        elif status == "in_progress":
            obj.update(status="finalizing", finalizing_at=now)
        else:  # finalizing
            self._finish(batch, self.config["final_status"])

    def _enqueued(self, model, but=None):
        """Tokens of the admitted, unfinished batches of `model` (other than `but`)."""
        return sum(b.tokens for b in self.batches.values()
                   if b is not but and b.admitted and b.obj["model"] == model
                   and b.obj["status"] not in TERMINAL)

    def _over_token_limit(self, batch):
        limit = self.config["enqueued_token_limit"]
        return limit > 0 and batch.tokens + self._enqueued(batch.obj["model"], batch) > limit

    def _note_enqueued(self, model):
        # Only an admission raises a model's sum, so checking here sees every peak.
        total, limit = self._enqueued(model), self.config["enqueued_token_limit"]
        peaks = self.stats["enqueued_tokens_peak"]
        peaks[model] = max(peaks.get(model, 0), total)
        if limit > 0 and total > limit:
            self.stats["enqueued_over_limit"] += 1

    def _is_failing(self, request):
        every = self.config["fail_every"]
        return (request["custom_id"] in self.config["fail_custom_ids"]
                or (every > 0 and request["position"] % every == 0))

    def _show_progress(self, batch):
        # The k-th in_progress retrieve shows k/(steps+1) of the work done, so counts
        # grow while in progress but never reach the final numbers early.
        share = batch.seen / (self.config["steps"] + 1)
        failing = sum(1 for r in batch.requests if self._is_failing(r))
        counts = batch.obj["request_counts"]
        counts["completed"] = int((len(batch.requests) - failing) * share)
        counts["failed"] = int(failing * share)

    def _finish(self, batch, status, errors=None):
        obj, now = batch.obj, int(time.time())
        obj["status"] = status
        obj[f"{status}_at"] = now
        if status == "failed":
            obj["errors"] = {"object": "list", "data": errors or batch.errors or [
                {"code": "fake_validation_failure", "param": None, "line": 1,
                 "message": "Line 1: fake validation failure"}]}
            obj["request_counts"] = {"total": len(batch.requests), "completed": 0, "failed": 0}
            obj["usage"] = usage_object()
            return
        if status == "cancelled" and obj["cancelling_at"] is None:
            obj["cancelling_at"] = now
        if status == "completed":
            # A batch jumped here by /_control/advance still gets consistent timestamps.
            obj["in_progress_at"] = obj["in_progress_at"] or now
            obj["finalizing_at"] = obj["finalizing_at"] or now
        self._build_results(batch, status)

    def _build_results(self, batch, status):
        obj, requests = batch.obj, batch.requests
        if status in ("expired", "cancelled"):
            requests = requests[:int(len(requests) * self.config["partial_fraction"])]
        ok, failed, tokens_in, tokens_out = [], [], 0, 0
        for request in requests:
            cid = request["custom_id"]
            if self._is_failing(request):
                failed.append(output_line(cid, 400, failure_body(cid)))
                continue
            body, used_in, used_out = fake_result_body(obj["endpoint"], cid, request["body"])
            ok.append(output_line(cid, 200, body))
            tokens_in, tokens_out = tokens_in + used_in, tokens_out + used_out
        rng = random.Random(f"{self.config['seed']}:shuffle:{batch.seq}")
        shuffle = self.config["shuffle"]
        obj["output_file_id"] = self._result_file(obj["id"], "output", reorder(ok, rng, shuffle))
        obj["error_file_id"] = self._result_file(obj["id"], "error",
                                                 reorder(failed, rng, shuffle))
        obj["request_counts"] = {"total": len(batch.requests), "completed": len(ok),
                                 "failed": len(failed)}
        obj["usage"] = usage_object(tokens_in, tokens_out)

    def _result_file(self, batch_id, kind, lines):
        if not lines:
            return None
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return self._store_file(f"{batch_id}_{kind}.jsonl", "batch_output", data)["id"]


# --------------------------------------------------------------------------- routes


def query_int(query, name, default, low, high):
    raw = query.get(name, [None])[0]
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be an integer", name) from None
    if not low <= value <= high:
        raise bad_request(f"'{name}' must be between {low} and {high}", name)
    return value


def route_upload_file(state, req):
    parts = parse_multipart(req["headers"].get("Content-Type"), req["body"])
    if "file" not in parts:
        raise bad_request("Missing required parameter: 'file'.", "file")
    if "purpose" not in parts:
        raise bad_request("Missing required parameter: 'purpose'.", "purpose")
    filename, data = parts["file"]
    purpose = parts["purpose"][1].decode("utf-8", "replace")
    seconds = None
    if "expires_after[seconds]" in parts:
        anchor = parts.get("expires_after[anchor]", (None, b"created_at"))[1]
        try:
            seconds = int(parts["expires_after[seconds]"][1])
        except ValueError:
            seconds = -1
        if anchor != b"created_at" or not 3600 <= seconds <= 2592000:
            raise bad_request("expires_after needs anchor 'created_at' and seconds in "
                              "3600..2592000", "expires_after")
    return json_response(state.create_file(filename, purpose, data, seconds))


def route_list_files(state, req):
    query = req["query"]
    order = query.get("order", ["desc"])[0]
    if order not in ("asc", "desc"):
        raise bad_request("'order' must be 'asc' or 'desc'", "order")
    limit = query_int(query, "limit", 10000, 1, 10000)
    return json_response(state.list_files(query.get("purpose", [None])[0],
                                          query.get("after", [None])[0], limit, order))


def route_get_file(state, req):
    return json_response(state.get_file(req["params"]["file_id"]))


def route_delete_file(state, req):
    return json_response(state.delete_file(req["params"]["file_id"]))


def route_file_content(state, req):
    data = state.file_content(req["params"]["file_id"])
    return Response(200, data, "application/octet-stream", is_download=True)


def route_create_batch(state, req):
    args = parse_json_body(req["body"])
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(args.get(name), str):
            raise bad_request(f"Missing required parameter: '{name}'.", name)
    if args["endpoint"] not in BATCH_ENDPOINTS:
        raise bad_request(f"Invalid value for 'endpoint': {args['endpoint']!r}; expected "
                          f"one of {', '.join(BATCH_ENDPOINTS)}", "endpoint")
    if args["completion_window"] != "24h":
        raise bad_request("Invalid value for 'completion_window': only '24h' is supported",
                          "completion_window")
    check_metadata(args.get("metadata"))
    return json_response(state.create_batch(args["input_file_id"], args["endpoint"],
                                            args.get("metadata")))


def route_create_inline_batch(state, req):
    """A batch whose requests come in the create call itself (the JSONL as the body),
    like Anthropic's Message Batches: proves a provider need not upload a file."""
    endpoint = req["query"].get("endpoint", [None])[0]
    if endpoint not in BATCH_ENDPOINTS:
        raise bad_request("query parameter 'endpoint' must be a batch endpoint", "endpoint")
    content_type = req["headers"].get("Content-Type") or ""
    if not content_type.startswith("application/jsonl"):
        raise bad_request("the body must be application/jsonl", "body")
    input_file_id = state.store_inline_input(req["body"])
    return json_response(state.create_batch(input_file_id, endpoint, None))


def route_list_batches(state, req):
    limit = query_int(req["query"], "limit", 20, 1, 100)
    return json_response(state.list_batches(req["query"].get("after", [None])[0], limit))


def route_retrieve_batch(state, req):
    return json_response(state.retrieve_batch(req["params"]["batch_id"]))


def route_cancel_batch(state, req):
    return json_response(state.cancel_batch(req["params"]["batch_id"]))


def route_direct(state, req):
    """A normal request of direct mode: the limits on arrival, the latency, then an answer
    derived from the body (or the error its FAIL400 / FAIL500 marker asks for)."""
    body = parse_json_body(req["body"])
    text = direct_text(req["path"], body)
    refused = state.direct_admit(request_tokens(body), body.get("model"))
    if refused is not None:
        return refused  # at once: a rate limiter answers before any model runs
    delay = state.direct_delay()
    if delay > 0:
        time.sleep(delay)
    if "FAIL400" in text:
        raise ApiError(400, "The request was rejected (fake): its text contains FAIL400",
                       code="fake_failure")
    if "FAIL500" in text:
        return error_response(500, "The server had an error processing your request "
                                   "(fake: FAIL500)", "server_error")
    return json_response(direct_answer(req["path"], body, text))


# ---- Anthropic's Message Batches

ANTHROPIC_VERSION = "2023-06-01"
ANTHROPIC_PATH = re.compile(r"/v1/messages/batches(/|\Z)")
ANTHROPIC_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
ANTHROPIC_MAX_REQUESTS = 100_000
ANTHROPIC_MAX_BYTES = 256 * 1000 * 1000
ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                         403: "permission_error", 404: "not_found_error",
                         413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                         503: "overloaded_error"}


def rfc3339(t, micros=False):
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return text + (".%06dZ" % (int(t * 1_000_000) % 1_000_000) if micros else "Z")


def anthropic_error(status, message, type_=None):
    body = {"type": "error", "error": {"type": type_ or ANTHROPIC_ERROR_TYPES.get(status, "api_error"),
                                       "message": message}}
    return json_response(body, status)


def as_anthropic_error(resp):
    """An OpenAI-shaped error answer (a fault, a 404) in Anthropic's shape."""
    if resp is None or resp.status < 400 or resp.is_download:
        return resp
    try:
        message = json.loads(resp.body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return resp
    out = anthropic_error(resp.status, message)
    out.headers = resp.headers
    return out


def anthropic_auth_failure(headers, api_key):
    """None when the headers are what Anthropic requires, else the answer."""
    if headers.get("Authorization") is not None:
        return anthropic_error(401, "Authorization is not accepted here: send the key in "
                                    "x-api-key")
    given = (headers.get("x-api-key") or "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, api_key.encode()):
        return anthropic_error(401, "invalid x-api-key")
    if headers.get("anthropic-version") != ANTHROPIC_VERSION:
        return anthropic_error(400, f"anthropic-version: {ANTHROPIC_VERSION} is required")
    return None


def check_anthropic_requests(body):
    if len(body) > ANTHROPIC_MAX_BYTES:
        raise bad_request(f"the request is {len(body)} bytes; a batch may have at most "
                          f"{ANTHROPIC_MAX_BYTES}")
    requests = parse_json_body(body).get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("requests: a non-empty list is required")
    if len(requests) > ANTHROPIC_MAX_REQUESTS:
        raise bad_request(f"requests: at most {ANTHROPIC_MAX_REQUESTS} per batch")
    out, seen = [], set()
    for i, request in enumerate(requests):
        where = f"requests.{i}"
        cid = request.get("custom_id") if isinstance(request, dict) else None
        if not isinstance(cid, str) or not ANTHROPIC_ID.match(cid):
            raise bad_request(f"{where}.custom_id: String should match pattern "
                              f"'^[a-zA-Z0-9_-]{{1,64}}$' (got {cid!r})")
        if cid in seen:
            raise bad_request(f"{where}.custom_id: duplicate custom_id {cid!r}")
        seen.add(cid)
        params = request.get("params")
        if not isinstance(params, dict):
            raise bad_request(f"{where}.params: an object is required")
        if not isinstance(params.get("model"), str):
            raise bad_request(f"{where}.params.model: Field required")
        if not isinstance(params.get("messages"), list) or not params["messages"]:
            raise bad_request(f"{where}.params.messages: a non-empty list is required")
        tokens = params.get("max_tokens")
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            raise bad_request(f"{where}.params.max_tokens: Field required (an integer >= 1)")
        out.append({"line": i + 1, "position": i + 1, "custom_id": cid, "method": "POST",
                    "url": "/v1/messages", "body": params})
    return out


def results_base(state, req):
    base = state.config["anthropic_results_base"]
    if base:
        return base.rstrip("/")
    return f"{req['scheme']}://{req['headers'].get('Host')}"


def route_anthropic_create(state, req):
    return json_response(state.create_anthropic_batch(check_anthropic_requests(req["body"]),
                                                      results_base(state, req)))


def route_anthropic_list(state, req):
    limit = query_int(req["query"], "limit", 20, 1, 1000)
    return json_response(state.list_anthropic(req["query"].get("after_id", [None])[0], limit,
                                              results_base(state, req)))


def route_anthropic_retrieve(state, req):
    return json_response(state.retrieve_anthropic(req["params"]["batch_id"],
                                                  results_base(state, req)))


def route_anthropic_cancel(state, req):
    return json_response(state.cancel_anthropic(req["params"]["batch_id"],
                                                results_base(state, req)))


def route_anthropic_results(state, req):
    data = state.anthropic_results(req["params"]["batch_id"])
    return Response(200, data, "application/binary", is_download=True)


ROUTES = [
    ("POST", r"/v1/messages/batches", route_anthropic_create),
    ("GET", r"/v1/messages/batches", route_anthropic_list),
    ("GET", r"/v1/messages/batches/(?P<batch_id>[^/]+)", route_anthropic_retrieve),
    ("POST", r"/v1/messages/batches/(?P<batch_id>[^/]+)/cancel", route_anthropic_cancel),
    ("GET", r"/v1/messages/batches/(?P<batch_id>[^/]+)/results", route_anthropic_results),
    ("POST", r"/v1/files", route_upload_file),
    ("GET", r"/v1/files", route_list_files),
    ("GET", r"/v1/files/(?P<file_id>[^/]+)", route_get_file),
    ("DELETE", r"/v1/files/(?P<file_id>[^/]+)", route_delete_file),
    ("GET", r"/v1/files/(?P<file_id>[^/]+)/content", route_file_content),
    ("POST", r"/v1/batches", route_create_batch),
    ("GET", r"/v1/batches", route_list_batches),
    ("POST", r"/v1/inline_batches", route_create_inline_batch),
    ("GET", r"/v1/batches/(?P<batch_id>[^/]+)", route_retrieve_batch),
    ("POST", r"/v1/batches/(?P<batch_id>[^/]+)/cancel", route_cancel_batch),
] + [("POST", re.escape(path), route_direct) for path in DIRECT_ENDPOINTS]
ROUTES = [(method, re.compile(pattern + r"\Z"), func) for method, pattern, func in ROUTES]


def missing_listing(config, method, path):
    """The answer of a server without this listing (config no_listing), or None."""
    if method != "GET" or path not in [LISTINGS[n] for n in config["no_listing"]]:
        return None
    status = config["no_listing_status"]
    if status == 404:
        return error_response(404, f"Invalid URL ({method} {path})")
    if status == 405:
        resp = error_response(405, f"Method Not Allowed ({method} {path})")
        resp.headers["Allow"] = "POST"
        return resp
    return error_response(501, f"Not Implemented ({method} {path})", "server_error")


def handle_api(state, method, path, req):
    if state.config["no_batch_api"] and BATCH_API_PATH.match(path):
        return error_response(404, f"Invalid URL ({method} {path})")
    missing = missing_listing(state.config, method, path)
    if missing:
        return missing
    for route_method, pattern, func in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            req["params"] = match.groupdict()
            try:
                return func(state, req)
            except ApiError as err:
                return err.response()
    return error_response(404, f"Invalid URL ({method} {path})")


def handle_control(server, method, path, body):
    """The unauthenticated control API; returns (response, stop_after_sending)."""
    state = server.state
    try:
        if method == "GET" and path == "/_control/stats":
            return json_response(state.snapshot_stats()), False
        if method == "GET" and path == "/_control/config":
            return json_response(state.update_config({})), False
        if method == "POST" and path == "/_control/config":
            try:
                return json_response(state.update_config(parse_json_body(body))), False
            except ValueError as err:
                raise bad_request(str(err)) from None
        if method == "POST" and path == "/_control/reset":
            state.reset()
            return json_response({"reset": True}), False
        if method == "GET" and path == "/_control/held":
            return json_response({"held": state.held_requests()}), False
        if method == "POST" and path == "/_control/release":
            hold_id = parse_json_body(body or b"{}").get("id")
            if hold_id is not None and (isinstance(hold_id, bool) or not isinstance(hold_id, int)):
                raise bad_request("'id' must be an integer", "id")
            return json_response({"released": state.release(hold_id)}), False
        if method == "POST" and path == "/_control/shutdown":
            return json_response({"shutdown": True}), True
        match = re.fullmatch(r"/_control/advance/([^/]+)", path)
        if method == "POST" and match:
            status = parse_json_body(body).get("status")
            return json_response(state.advance_batch(match.group(1), status)), False
    except ApiError as err:
        return err.response(), False
    return error_response(404, f"Unknown control call ({method} {path})"), False


# --------------------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "fake-batch-server/1.0"
    timeout = 60  # idle keep-alive connections must not pin a thread forever
    disable_nagle_algorithm = True  # avoid Nagle/delayed-ACK stalls on small answers

    def do_GET(self):
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def version_string(self):
        return self.server_version  # the default appends the Python version

    def setup(self):
        super().setup()
        self.tls_failed = False
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                # E.g. the client refused the certificate: no request ever arrives.
                self.tls_failed = True
                self.server.state.count("tls_handshake_failures")

    def handle(self):
        if not self.tls_failed:
            super().handle()

    def log_message(self, format, *args):  # noqa: A002 (signature fixed by the base class)
        if self.server.verbose:
            sys.stderr.write("fake_batch_server: %s\n" % (format % args))

    # ---- request reading

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # CRLF after each chunk

    # ---- response writing

    def _send(self, resp, truncate=False):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        body = resp.body
        if truncate:
            # Announce the full length but send half, then hang up: a cut download.
            body = body[:len(body) // 2]
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _reset_connection(self):
        """Close with RST (SO_LINGER 0) and no answer, so the client sees ECONNRESET."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a reference to the socket; close it so close() really closes now.
        # wfile is left open: the base class flushes it after this handler returns.
        self.rfile.close()
        self.connection.close()

    # ---- dispatch

    def _dispatch(self):
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        method = self.command
        if path == "/v1" or path.startswith("/v1/"):
            self._dispatch_api(method, path, url.query)  # reads the body itself
            return
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(error_response(400, "Could not read the request body"))
            return
        if path.startswith("/_control/"):
            resp, stop = handle_control(self.server, method, path, body)
            self._send(resp)
            if stop:
                self.close_connection = True
                self.server.stop_event.set()
        else:
            self._send(error_response(404, f"Invalid URL ({method} {path})"))

    def _dispatch_api(self, method, path, query):
        state = self.server.state
        self.direct_entry = None  # set below for an authorized direct request
        record = {"method": method, "path": path, "query": query, "status": None,
                  "authorization": self.headers.get("Authorization"),
                  "x_api_key": self.headers.get("x-api-key"),
                  "api_key_header": None,
                  "host": self.headers.get("Host"),
                  "user_agent": self.headers.get("User-Agent"), "fault": None,
                  "acted": False, "abandoned": False}
        config = state.config
        if ANTHROPIC_PATH.match(path):
            refused = anthropic_auth_failure(self.headers, self.server.api_key)
        else:
            refused = self._openai_auth_failure(config, query, record)
        if refused is not None:
            try:
                self._read_body()
            except (ValueError, OSError):
                self.close_connection = True
            self._finish_api(record, refused)
            return
        fault = state.pick_fault_spec(method, path)
        record["fault"] = fault["kind"] if fault else None
        state.count_attempt(method, path)
        if method != "POST" or path not in DIRECT_ENDPOINTS:
            self._act_api(method, path, query, record, fault)
            return
        self.direct_entry = state.direct_arrive(path, record["fault"])
        try:
            self._act_api(method, path, query, record, fault)
        finally:
            state.direct_leave()  # whatever happened, it is no longer in flight

    def _openai_auth_failure(self, config, query, record):
        """None when the key and query are as config wants them, else the answer."""
        if config["auth_header"] == "bearer":
            expected = f"Bearer {self.server.api_key}".encode()
            given = (record["authorization"] or "").encode("utf-8", "replace")
        else:
            expected = self.server.api_key.encode()
            record["api_key_header"] = self.headers.get(config["auth_header"])
            given = (record["api_key_header"] or "").encode("utf-8", "replace")
            if record["authorization"] is not None:
                given = b""  # a host with its own header: a Bearer key went the wrong way
        if not hmac.compare_digest(given, expected):
            return error_response(401, *AUTH_ERROR)
        args = parse_qs(query)
        for name, value in config["required_query"].items():
            if args.get(name) != [value]:
                return error_response(404, f"Resource not found (query {name}={value} is "
                                           "required)")
        return None

    def _act_api(self, method, path, query, record, fault):
        """An authorized /v1 request with its fault (or None) picked: read, act, answer."""
        state = self.server.state
        kind = fault["kind"] if fault else None
        try:
            body = self._read_api_body(method, path, fault)
        except (ValueError, OSError):
            self.close_connection = True
            self._finish_api(record, error_response(400, "Could not read the request body"))
            return
        if self.direct_entry is not None and body is not None:
            state.direct_note_body(self.direct_entry, body)
        paced_response = fault if kind in ("stall", "slow") and not body else None
        if body is None or (kind == "hang_before"
                            and not self._hold(method, path, fault, "before_action")):
            # The client went away before the whole request arrived or was acted on.
            record["abandoned"] = True
            state.count("abandoned")
            self._finish_api(record, None)
            return
        if kind in RESPONSE_FAULTS:
            self._finish_api(record, fault_response(kind, state.config))
            return
        if kind in REDIRECT_FAULTS:
            location = state.config["redirect_location"] or self.path
            self._finish_api(record, Response(int(kind), b"", "text/plain",
                                              {"Location": location}))
            return
        if kind == "echo_auth":
            echoed = "Authorization: %s" % record["authorization"]
            if record["x_api_key"] is not None:
                echoed += ", x-api-key: %s" % record["x_api_key"]
            resp = error_response(500, "Internal error while handling " + echoed, "server_error")
            if ANTHROPIC_PATH.match(path):
                resp = as_anthropic_error(resp)
            self._finish_api(record, resp)
            return
        if kind == "reset":
            self._finish_api(record, None)
            return
        req = {"headers": self.headers, "body": body, "query": parse_qs(query), "path": path,
               "scheme": "https" if self.server.tls_context is not None else "http"}
        resp = handle_api(state, method, path, req)
        if ANTHROPIC_PATH.match(path):
            resp = as_anthropic_error(resp)
        record["acted"] = resp.status == 200
        if kind == "reset_after":
            resp = None
        elif kind == "500_after":
            resp = fault_response("500", state.config)
        elif kind == "hang_after" and not self._hold(method, path, fault, "after_action"):
            resp = None  # the client is gone: nobody to answer
        truncate = kind == "truncate"
        if kind is None and resp.is_download and resp.body and state.should_truncate():
            truncate, record["fault"] = True, "truncate"
        self._finish_api(record, resp, truncate, paced_response)

    def _finish_api(self, record, resp, truncate=False, pace=None):
        # Log before answering so a client that reads /_control/stats right after
        # getting its answer always finds this request there.
        state = self.server.state
        direct = self.direct_entry
        if direct is not None and resp is not None:
            resp.headers.update(state.ratelimit_headers())
            resp.headers["x-request-id"] = new_id("req_")
        record["status"] = resp.status if resp else None
        state.log_request(record)
        if direct is not None:
            state.direct_answered(direct, resp)
        if resp is None:
            self._reset_connection()
        elif pace is not None:
            self._send_paced(resp, pace, record["method"], record["path"])
        else:
            self._send(resp, truncate)

    # ---- holds and pacing

    def _client_gone(self):
        """True once the client closed or reset its side, even with unread bytes queued
        (POLLRDHUP), so a killed client is seen while its last request sits unread."""
        poller = select.poll()
        poller.register(self.connection, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        try:
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def _hold(self, method, path, fault, phase, done=0, total=0):
        """Holds this request for fault["seconds"], until /_control/release, or until the
        client goes away. Returns False when the client went away."""
        state = self.server.state
        hold_id, released = state.hold_begin({
            "method": method, "path": path, "kind": fault["kind"], "phase": phase,
            "bytes_done": done, "bytes_total": total})
        deadline = time.monotonic() + fault["seconds"]
        try:
            while not released.is_set() and not self.server.stop_event.is_set():
                if self._client_gone():
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                released.wait(min(0.02, left))
            return not self._client_gone()
        finally:
            state.hold_end(hold_id)

    def _read_api_body(self, method, path, fault):
        """The request body, read as `fault` says ("stall", "slow"); None when the client
        went away before all of it was read."""
        kind = fault["kind"] if fault else None
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return b""
        if kind == "stall":
            head = self.rfile.read(length // 2)
            if len(head) < length // 2 or not self._hold(method, path, fault, "request_body",
                                                         len(head), length):
                return None
            rest = self.rfile.read(length - len(head))
            body = head + rest
        elif kind == "slow":
            body = self._read_slowly(method, path, fault, length)
        else:
            body = self.rfile.read(length)
        return body if body is not None and len(body) == length else None

    def _pace(self, method, path, fault, phase, total, step):
        """Yields chunk sizes for `total` bytes at fault["rate"] bytes/s while the request
        is listed as held; stops early (the generator returns) when the client goes."""
        state = self.server.state
        hold_id, released = state.hold_begin({
            "method": method, "path": path, "kind": fault["kind"], "phase": phase,
            "bytes_done": 0, "bytes_total": total})
        chunk = max(1, int(fault["rate"] / 20))  # 20 chunks a second
        done = 0
        try:
            while done < total:
                if self._client_gone() or self.server.stop_event.is_set():
                    return
                n = total - done if released.is_set() else min(chunk, total - done)
                step(n)
                done += n
                state.hold_progress(hold_id, done)
                if done < total and not released.is_set():
                    time.sleep(0.05)
        finally:
            state.hold_end(hold_id)

    def _read_slowly(self, method, path, fault, length):
        parts = []
        self._pace(method, path, fault, "request_body", length,
                   lambda n: parts.append(self.rfile.read(n)))
        body = b"".join(parts)
        return body if len(body) == length and not self._client_gone() else None

    def _send_paced(self, resp, fault, method, path):
        """Sends the headers, then the body held after half ("stall") or paced ("slow")."""
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        body, sent = resp.body, [0]

        def write(n):
            self.wfile.write(body[sent[0]:sent[0] + n])
            self.wfile.flush()
            sent[0] += n

        try:
            if fault["kind"] == "stall":
                write(len(body) // 2)
                if self._hold(method, path, fault, "response_body", sent[0], len(body)):
                    write(len(body) - sent[0])
            else:
                self._pace(method, path, fault, "response_body", len(body), write)
        except OSError:
            pass
        if sent[0] < len(body):
            self.close_connection = True


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Direct mode opens hundreds of connections at once; with the default backlog of 5
    # those over it are reset or stall for a SYN retransmission.
    request_queue_size = 1024

    def __init__(self, address, state, api_key, verbose, tls_context=None):
        self.state, self.api_key, self.verbose = state, api_key, verbose
        self.tls_context = tls_context
        self.stop_event = threading.Event()
        super().__init__(address, Handler)

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context is not None:
            # The handshake runs in the handler's thread (Handler.setup), so a client
            # that never completes it cannot stall the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        # A client killed or reset mid-request is what the fault tests do on purpose:
        # no traceback for that; anything else is still printed.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- main


def load_config(arg, seed):
    config = copy.deepcopy(DEFAULT_CONFIG)
    if arg:
        text = open(arg[1:], encoding="utf-8").read() if arg.startswith("@") else arg
        config = merged_config(config, json.loads(text))
    if seed is not None:
        config = merged_config(config, {"seed": seed})
    return config


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)  # atomic: a reader never sees a half-written port


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--config", help="JSON object, or @file holding one")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-lifetime", type=float, default=600,
                        help="exit after this many seconds (a forgotten server never lingers)")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    parser.add_argument("--tls-cert", help="serve https with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(args.config, args.seed)
    except (OSError, ValueError) as err:
        print(f"fake_batch_server: bad --config: {err}", file=sys.stderr)
        return 2
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    server = FakeServer(("127.0.0.1", args.port), State(config), args.api_key, args.verbose,
                        tls_context)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop_event.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    deadline = time.monotonic() + args.max_lifetime
    # Short waits keep signal handling prompt in the main thread.
    while not server.stop_event.wait(0.2) and time.monotonic() < deadline:
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
