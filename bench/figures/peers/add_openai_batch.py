"""Peer of figure 1: python add_openai_batch.py BODIES_FILE N OUT_JSONL

Adds N chat requests with openai-batch's Batch.add_to_batch(**body), cycling
over the bodies in BODIES_FILE (one JSON body per line, parsed once up front:
a Python user holds dicts), writing OUT_JSONL. The provider is OpenAI's with
its 50,000-request / 100 MB caps lifted (dataclasses.replace), as obatch's
driver lifts them. Without openai-batch installed (or with --json-dumps) it
runs the equivalent loop: json.dumps of {"custom_id","method","url","body"}
+ write. Prints one JSON line: {"n", "add_s", "bytes", "impl"}.
"""
import dataclasses
import json
import os
import sys
import time


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    bodies_path, n, out_path = args[0], int(args[1]), args[2]
    with open(bodies_path) as f:
        bodies = [json.loads(line) for line in f if line.strip()]
    nb = len(bodies)
    impl = None
    if "--json-dumps" not in sys.argv:
        try:
            import openai_batch
            from openai_batch import Batch
            from openai_batch.providers import get_provider_by_model
            from importlib.metadata import version
            impl = "openai-batch %s add_to_batch" % version("openai-batch")
        except Exception as e:  # not installed: fall back, and say so
            print("openai-batch not importable (%s): json.dumps loop" % e, file=sys.stderr)
    if impl:
        provider = dataclasses.replace(get_provider_by_model(bodies[0]["model"]),
                                       batch_input_max_requests=1 << 62,
                                       batch_input_max_bytes=1 << 62)
        t0 = time.perf_counter()
        with Batch(submission_input_file=out_path, provider=provider) as batch:
            for i in range(n):
                batch.add_to_batch(**bodies[i % nb])
            batch.submission_input_file.flush()
            t1 = time.perf_counter()
    else:
        impl = "json.dumps loop (openai-batch not installed)"
        t0 = time.perf_counter()
        with open(out_path, "w", encoding="utf-8") as out:
            for i in range(n):
                out.write(json.dumps({"custom_id": "request-%d" % (i + 1), "method": "POST",
                                      "url": "/v1/chat/completions",
                                      "body": bodies[i % nb]}) + "\n")
            out.flush()
            t1 = time.perf_counter()
    size = os.path.getsize(out_path)
    print(json.dumps({"n": n, "add_s": t1 - t0, "bytes": size, "impl": impl}))


if __name__ == "__main__":
    main()
