#!/usr/bin/env python3
"""Regenerates data/tiktoken/*.bpe.gz, the BPE merge ranks obatch's tokenizer
embeds, from the MIT-licensed npm package `tiktoken` (its encoders/*.json).

Usage: scripts/gen-tiktoken-ranks.py TIKTOKEN_TGZ_OR_PACKAGE_DIR [OUT_DIR]
  (get the package with `npm pack tiktoken@1.0.22`; OUT_DIR: data/tiktoken)

Each output file is gzip of: one JSON line (name, pat_str, special_tokens,
n_vocab, source: package@version, file and SHA-256), then for every rank from
0 to n_vocab - 1 in order one byte of length (1..255) and the token's bytes.
The build embeds the files as they are; nothing is downloaded at build or run
time. The output is deterministic (gzip mtime 0), so a rerun on the same
package gives the same bytes.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

ENCODINGS = ("o200k_base", "cl100k_base")


def read_package(src):
    """{name: (bytes of encoders/NAME.json)}, and "tiktoken@VERSION"."""
    files, version = {}, None
    if os.path.isdir(src):
        for name in ENCODINGS:
            with open(os.path.join(src, "encoders", name + ".json"), "rb") as f:
                files[name] = f.read()
        with open(os.path.join(src, "package.json"), encoding="utf-8") as f:
            version = json.load(f)["version"]
    else:
        with tarfile.open(src) as tar:
            for name in ENCODINGS:
                files[name] = tar.extractfile("package/encoders/%s.json" % name).read()
            version = json.load(tar.extractfile("package/package.json"))["version"]
    return files, "tiktoken@" + version


def ranks_of(text):
    """The tokens in rank order from tiktoken's compact "! START b64 b64 ..." text."""
    ranks = {}
    items = text.split(" ")
    rank, i = 0, 0
    while i < len(items):
        if items[i] == "!":
            rank = int(items[i + 1])
            i += 2
            continue
        ranks[rank] = base64.b64decode(items[i])
        rank += 1
        i += 1
    n = max(ranks) + 1
    if len(ranks) != n:
        raise SystemExit("ranks are not dense: %d of %d" % (len(ranks), n))
    return [ranks[r] for r in range(n)]


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    out_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "tiktoken")
    files, package = read_package(sys.argv[1])
    for name in ENCODINGS:
        enc = json.loads(files[name])
        tokens = ranks_of(enc["bpe_ranks"])
        header = {"name": name, "pat_str": enc["pat_str"],
                  "special_tokens": enc["special_tokens"], "n_vocab": len(tokens),
                  "source": "%s encoders/%s.json sha256=%s" % (
                      package, name, hashlib.sha256(files[name]).hexdigest())}
        body = io.BytesIO()
        body.write(json.dumps(header, sort_keys=True).encode() + b"\n")
        for t in tokens:
            if not 1 <= len(t) <= 255:
                raise SystemExit("%s: a token of %d bytes" % (name, len(t)))
            body.write(bytes([len(t)]) + t)
        path = os.path.join(out_dir, name + ".bpe.gz")
        with open(path, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
                gz.write(body.getvalue())
        print("%s: %d tokens, %d bytes" % (path, len(tokens), os.path.getsize(path)))


if __name__ == "__main__":
    main()
