"""Peer of figure 4: python lifecycle_openai_batch.py BASE_URL KEY INPUT

The calls openai-batch makes for one batch (whole files in memory; a status
check at once, then every 60 s), then every result merged by custom_id.
Prints {"seconds", "results"}."""
import json
import sys
import time

from whole_file_api import TERMINAL, Api

base, key, inp = sys.argv[1:4]
api = Api(base, key)
t0 = time.perf_counter()
with open(inp, "rb") as f:
    content = f.read()
ids = [json.loads(l)["custom_id"] for l in content.splitlines() if l.strip()]
batch = api.create(api.upload(content))
while True:
    batch = api.retrieve(batch["id"])   # openai-batch: at once
    if batch["status"] in TERMINAL:
        break
    time.sleep(60)
results = {}
for fid in (batch.get("output_file_id"), batch.get("error_file_id")):
    if fid:
        for line in api.content(fid).splitlines():
            if line.strip():
                r = json.loads(line)
                results[r["custom_id"]] = r
n = sum(1 for cid in ids if results.get(cid) is not None)
print(json.dumps({"seconds": time.perf_counter() - t0, "results": n}))
