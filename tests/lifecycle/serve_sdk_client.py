#!/usr/bin/env python3
"""The official `openai` SDK as a client of `obatch serve`, run by the venv's Python
(scripts/openai-venv.sh) for test_cli_serve_sdk.py. Each case prints one JSON object
of what the SDK saw; the test checks it.

    serve_sdk_client.py CASE BASE_URL KEY [ARGS...]
"""

import json
import sys
import time

import openai


def client(base_url, key):
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=30)


def batch(base_url, key, input_path):
    """Upload, create, poll, download: the Batch API as the SDK's docs show it."""
    c = client(base_url, key)
    with open(input_path, "rb") as f:
        uploaded = c.files.create(file=f, purpose="batch")
    created = c.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                               completion_window="24h", metadata={"job": "sdk-test"})
    statuses = [created.status]
    b = created
    deadline = time.monotonic() + 60
    while b.status not in ("completed", "failed", "expired", "cancelled"):
        if time.monotonic() > deadline:
            raise SystemExit("batch %s did not end: %s" % (b.id, b.status))
        time.sleep(0.2)
        b = c.batches.retrieve(b.id)
        if b.status != statuses[-1]:
            statuses.append(b.status)
    output = c.files.content(b.output_file_id).text
    listed = [x.id for x in c.batches.list(limit=1)]  # the SDK pages with `after`
    files = [x.id for x in c.files.list(purpose="batch")]
    outputs = [x.id for x in c.files.list(purpose="batch_output")]
    deleted = c.files.delete(uploaded.id)
    files_after = [x.id for x in c.files.list(limit=1)]
    return {"file": uploaded.model_dump(), "created": created.model_dump(),
            "batch": b.model_dump(), "statuses": statuses,
            "output": [json.loads(line) for line in output.splitlines() if line],
            "listed": listed, "files": files, "outputs": outputs, "deleted": deleted.deleted,
            "files_after": files_after}


def deferred(base_url, key, text):
    """chat.completions.create gives the id at once; the same call again gives the
    completion once the batch ran."""
    c = client(base_url, key)
    messages = [{"role": "user", "content": text}]
    first = c.chat.completions.create(model="gpt-4o-mini", messages=messages)
    seen = {"id": first.id, "object": first.object,
            "status": (first.model_extra or {}).get("status")}
    state = c.get("/deferred/" + first.id, cast_to=object)
    deadline = time.monotonic() + 60
    while True:
        raw = c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)
        if raw.status_code == 200:
            break
        if time.monotonic() > deadline:
            raise SystemExit("no answer for %s" % first.id)
        time.sleep(0.3)
    done = raw.parse()
    keyed = c.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                      extra_headers={"Idempotency-Key": "sdk-" + text})
    final = c.get("/deferred/" + first.id, cast_to=object)
    return {"first": seen, "state": state, "final_state": final, "status_code": raw.status_code,
            "header_id": raw.headers.get("obatch-deferred-id"),
            "completion": done.model_dump(), "raw_body": json.loads(raw.text),
            "keyed_id": keyed.id}


def refused(base_url, key, other_key, big_path):
    """Errors as the SDK raises them: a wrong key, another client's batch, a big upload."""
    out = {}
    try:
        client(base_url, key + "-wrong").batches.list()
        out["wrong_key"] = "no error"
    except openai.AuthenticationError as e:
        out["wrong_key"] = {"status": e.status_code, "body": e.body}
    mine = client(base_url, key)
    with open(big_path, "rb") as f:
        try:
            mine.files.create(file=f, purpose="batch")
            out["big"] = "no error"
        except openai.APIStatusError as e:
            out["big"] = {"status": e.status_code, "body": e.body}
    small = b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", ' \
            b'"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}}\n'
    f = mine.files.create(file=("in.jsonl", small), purpose="batch")
    b = mine.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                            completion_window="24h")
    try:
        client(base_url, other_key).batches.retrieve(b.id)
        out["other_client"] = "no error"
    except openai.NotFoundError as e:
        out["other_client"] = {"status": e.status_code, "body": e.body}
    return out


if __name__ == "__main__":
    case, args = sys.argv[1], sys.argv[2:]
    result = {"batch": batch, "deferred": deferred, "refused": refused}[case](*args)
    json.dump(result, sys.stdout)
