#!/usr/bin/env python3
"""gen_results.py DIR SIZE_MB [--line-bytes 800] [--seed 42] [--escapes]

Writes DIR/input.jsonl (chat requests, custom_id "request-1".."request-N",
~300-byte bodies) and DIR/output.jsonl, an OpenAI batch output file of about
SIZE_MB megabytes: one line per request, shaped
{"id","custom_id","response":{"status_code":200,"request_id","body":{chat.completion}},"error":null},
each about --line-bytes long, in a shuffled order (seeded: the same files
every time). --escapes: the answers' text is in lines of about ten words, as
real completions are, so each body holds escaped newlines ("\\n"). Prints
{"n", "input_bytes", "output_bytes"} as JSON.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "figures"))
import benchlib as bl  # noqa: E402


def with_line_breaks(line):
    """Every tenth space of the answer's text as an escaped newline."""
    start = line.index('"content":"') + len('"content":"')
    end = line.index('"', start)
    words = line[start:end].split(" ")
    text = "".join(w + ("\\n" if k % 10 == 9 else " ") for k, w in enumerate(words[:-1]))
    return line[:start] + text + words[-1] + line[end:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("size_mb", type=float)
    ap.add_argument("--line-bytes", type=int, default=800)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--escapes", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    line_len = len(bl.output_line(0, a.line_bytes)) + 1
    n = max(1, int(a.size_mb * 1e6 / line_len))
    inp, out = os.path.join(a.dir, "input.jsonl"), os.path.join(a.dir, "output.jsonl")
    with open(inp, "w") as f:
        for i in range(n):
            f.write(bl.input_line(i) + "\n")
    order = list(range(n))
    random.Random(a.seed).shuffle(order)
    with open(out, "w") as f:
        for i in order:
            line = bl.output_line(i, a.line_bytes)
            if a.escapes:
                line = with_line_breaks(line)
            f.write(line + "\n")
    print(json.dumps({"n": n, "input_bytes": os.path.getsize(inp),
                      "output_bytes": os.path.getsize(out)}))


if __name__ == "__main__":
    main()
