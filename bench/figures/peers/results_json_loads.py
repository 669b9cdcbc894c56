"""Peer of figure 2: python results_json_loads.py INPUT_JSONL OUTPUT_JSONL

What a Python user writes without obatch: read the output file line by line
with json.loads into a dict by custom_id, then walk the input file (json.loads
of each line for its custom_id) and take each result in input order, touching
its response body. Prints {"n", "succeeded", "total_s"}.
"""
import json
import sys
import time


def main():
    inp, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    results = {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            results[r["custom_id"]] = r
    n = ok = 0
    with open(inp, encoding="utf-8") as f:
        for line in f:
            cid = json.loads(line)["custom_id"]
            r = results.get(cid)
            n += 1
            if r is not None and r.get("response") and r["response"]["status_code"] == 200:
                body = r["response"]["body"]
                if body is not None:
                    ok += 1
    t1 = time.perf_counter()
    print(json.dumps({"n": n, "succeeded": ok, "total_s": t1 - t0}))


if __name__ == "__main__":
    main()
