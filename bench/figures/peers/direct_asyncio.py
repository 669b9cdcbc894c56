"""Peer of figure 9: python direct_asyncio.py BASE_URL KEY INPUT OUT ERR N

The asyncio way to the same work: the `openai` SDK's AsyncOpenAI
client.chat.completions.create, one task per request, at most N in flight
(an asyncio.Semaphore(N)), one client (the SDK's defaults: its connection
pool, 2 retries), on the default event loop.

Reads INPUT (Batch API input lines) into a list and writes each result as it
completes, one JSON line {"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"} (the batch output format obatch writes): 2xx
to OUT, a failed call to ERR. Prints {"seconds", "cpu_s", "ok", "failed"} on
stdout: the time and the process's CPU from reading the input to closing the
files, after the imports and the client's creation.
"""
import asyncio
import json
import resource
import sys
import time

import openai

base, key, inp, out, err, n = sys.argv[1:7]
n = int(n)


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main():
    client = openai.AsyncOpenAI(api_key=key, base_url=base)
    t0, c0 = time.perf_counter(), cpu()
    with open(inp) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    sem = asyncio.Semaphore(n)
    counts = {"ok": 0, "failed": 0, "k": 0}
    with open(out, "w") as fo, open(err, "w") as fe:
        async def one(req):
            async with sem:
                try:
                    resp = await client.chat.completions.create(**req["body"])
                    status, request_id, body, error = 200, resp._request_id, resp.to_dict(), None
                except openai.APIStatusError as e:
                    status, request_id, body, error = e.status_code, e.request_id, e.body, None
                except Exception as e:  # noqa: BLE001 (a connection error is the result)
                    status, request_id, body, error = None, None, None, {"message": repr(e)}
            line = json.dumps({"id": "req_%d" % counts["k"], "custom_id": req["custom_id"],
                               "response": None if status is None else
                               {"status_code": status, "request_id": request_id, "body": body},
                               "error": error})
            counts["k"] += 1
            if status is not None and 200 <= status < 300:
                fo.write(line + "\n")
                counts["ok"] += 1
            else:
                fe.write(line + "\n")
                counts["failed"] += 1

        await asyncio.gather(*(one(r) for r in requests))
    await client.close()
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_s": cpu() - c0,
                      "ok": counts["ok"], "failed": counts["failed"]}))


asyncio.run(main())
