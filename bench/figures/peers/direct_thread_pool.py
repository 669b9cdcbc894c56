"""Peer of figure 9: python direct_thread_pool.py BASE_URL KEY INPUT OUT ERR N

What OpenAI's guidance on concurrent requests tells a user to write: the
`openai` SDK's client.chat.completions.create on a
concurrent.futures.ThreadPoolExecutor(max_workers=N), one client shared by
the threads (the SDK's defaults: its connection pool, 2 retries).

Reads INPUT (Batch API input lines: custom_id, method, url, body) into a list,
submits one call per line, and writes each result as it completes, one JSON
line {"id", "custom_id", "response": {"status_code", "request_id", "body"},
"error"} (the batch output format obatch writes): 2xx to OUT, a failed call
to ERR. Prints {"seconds", "cpu_s", "ok", "failed"} on stdout: the time and the
process's CPU (all threads) from reading the input to closing the files, after
the imports and the client's creation.
"""
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import openai

base, key, inp, out, err, n = sys.argv[1:7]
n = int(n)
client = openai.OpenAI(api_key=key, base_url=base)


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def call(req):
    try:
        resp = client.chat.completions.create(**req["body"])
        return req["custom_id"], 200, resp._request_id, resp.to_dict(), None
    except openai.APIStatusError as e:
        return req["custom_id"], e.status_code, e.request_id, e.body, None
    except Exception as e:  # noqa: BLE001 (a connection error is the request's result)
        return req["custom_id"], None, None, None, {"message": repr(e)}


t0, c0 = time.perf_counter(), cpu()
with open(inp) as f:
    requests = [json.loads(line) for line in f if line.strip()]
ok = failed = 0
with open(out, "w") as fo, open(err, "w") as fe, ThreadPoolExecutor(max_workers=n) as pool:
    futures = [pool.submit(call, r) for r in requests]
    for k, fut in enumerate(as_completed(futures)):
        custom_id, status, request_id, body, error = fut.result()
        line = json.dumps({"id": "req_%d" % k, "custom_id": custom_id,
                           "response": None if status is None else
                           {"status_code": status, "request_id": request_id, "body": body},
                           "error": error})
        if status is not None and 200 <= status < 300:
            fo.write(line + "\n")
            ok += 1
        else:
            fe.write(line + "\n")
            failed += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_s": cpu() - c0, "ok": ok,
                  "failed": failed}))
