#!/usr/bin/env python3
"""Figure 1: building input. obatch_add of 1,000,000 typical chat requests
(~300-byte bodies) vs openai-batch's Batch.add_to_batch, each as a whole
process (bench/drivers/add_driver.c; peers/add_openai_batch.py).

Rows: requests/s and MB/s of JSONL written (timed inside each process around
the add loop + flush; medians of OBATCH_BENCH_REPEATS runs), peak RSS (whole
process, at 100k and 1M requests) and its growth per request, plus the
in-process Google Benchmark BM_Add/300 numbers.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

FIG = "1. add 1M chat requests"
N_BIG = bl.scaled(1_000_000, 1000)
N_SMALL = bl.scaled(100_000, 100)
HERE = os.path.dirname(os.path.abspath(__file__))


def run_obatch(scratch, bodies, n, mode=None):
    """mode: None (obatch_add per body), "--many" (obatch_add_many over ~1 MB
    buffers) or "--file" (obatch_add_file of an input file of full lines)."""
    runs = []
    for k in range(bl.ENV.repeats):
        work = os.path.join(scratch, "obatch-%d-%s-%d" % (n, (mode or "add").strip("-"), k))
        os.makedirs(work)
        m = bl.measure([os.path.join(bl.ENV.build, "bench", "add_driver")] + ([mode] if mode else [])
                       + [bodies, n, work])
        m.out = json.loads(m.stdout)
        runs.append(m)
    return runs


def run_peer(scratch, bodies, n):
    runs = []
    for k in range(bl.ENV.repeats):
        out = os.path.join(scratch, "peer-%d.jsonl" % k)
        m = bl.measure([bl.ENV.python, os.path.join(HERE, "peers", "add_openai_batch.py"),
                        bodies, n, out])
        os.unlink(out)
        m.out = json.loads(m.stdout)
        runs.append(m)
    return runs


def summary(runs):
    return {
        "rps": bl.median([r.out["n"] / r.out["add_s"] for r in runs]),
        "mbps": bl.median([r.out["bytes"] / r.out["add_s"] / 1e6 for r in runs]),
        "rss": bl.median([r.maxrss_bytes for r in runs]),
        "wall": bl.median([r.wall_s for r in runs]),
        "bytes": runs[0].out["bytes"],
    }


def main():
    with bl.scratch("fig01-add") as scratch:
        bodies = os.path.join(scratch, "bodies.jsonl")
        with open(bodies, "w") as f:
            for i in range(1024):
                f.write(bl.chat_body(i) + "\n")
        bl.log("fig01: obatch add_driver, %d and %d requests x %d" % (N_SMALL, N_BIG, bl.ENV.repeats))
        ob_small, ob_big = summary(run_obatch(scratch, bodies, N_SMALL)), None
        ob_big = summary(run_obatch(scratch, bodies, N_BIG))
        bl.log("fig01: obatch add_driver --many and --file, %d requests x %d" % (N_BIG, bl.ENV.repeats))
        ob_many = summary(run_obatch(scratch, bodies, N_BIG, "--many"))
        ob_file = summary(run_obatch(scratch, bodies, N_BIG, "--file"))
        bl.log("fig01: peer (%s), %d and %d requests" % (bl.ENV.python, N_SMALL, N_BIG))
        peer_runs = run_peer(scratch, bodies, N_BIG)
        peer_name = peer_runs[0].out["impl"]
        pe_big = summary(peer_runs)
        pe_small = summary(run_peer(scratch, bodies, N_SMALL))
        # The limit: simdjson alone parsing the same N_BIG bodies (the parse
        # each obatch_add has to do), from memory, one core.
        many = os.path.join(scratch, "bodies-big.jsonl")
        with open(bodies) as f:
            text = f.read()
        with open(many, "w") as f:
            for _ in range(N_BIG // 1024):
                f.write(text)
            f.write("".join(text.splitlines(True)[:N_BIG % 1024]))
        bl.log("fig01: the limit: simdjson alone over the %d bodies" % N_BIG)
        lim_rps = []
        for _ in range(bl.ENV.repeats):
            m = bl.measure([os.path.join(bl.ENV.build, "bench", "simdjson_parse"), many])
            r = json.loads(m.stdout)
            if r["docs"] != N_BIG:
                raise RuntimeError("simdjson_parse: %s, expected %d documents" % (m.stdout, N_BIG))
            lim_rps.append(r["docs"] / min(r["many_s"], r["per_line_s"]))
        os.unlink(many)

    nb = "n=%d, body %d B, line %d B; median of %d" % (
        N_BIG, len(bl.chat_body(0)), ob_big["bytes"] // N_BIG, bl.ENV.repeats)
    note_limits = ("obatch: provider 'bench' = OpenAI-compatible without the 50k-request cap; "
                   "peer: OpenAI provider with its caps lifted")
    r = ob_big["rps"] / pe_big["rps"]
    bl.row(FIG, "requests/s", ob_big["rps"], pe_big["rps"], peer_name, True,
           ">= 50x peer", r >= 50, nb + "; " + note_limits)
    bl.row(FIG, "MB/s JSONL written", ob_big["mbps"], pe_big["mbps"], peer_name, True,
           ">= 300 MB/s", ob_big["mbps"] >= 300,
           "peer's lines are %d B (json.dumps with spaces)" % (pe_big["bytes"] // N_BIG))
    lim = bl.median(lim_rps)
    line_bytes = ob_big["bytes"] / N_BIG
    bl.row(FIG, "MB/s JSONL vs simdjson alone (the limit)", ob_big["mbps"], lim * line_bytes / 1e6,
           "simdjson 3 DOM, parse only, one core", True, ">= 1000 MB/s", ob_big["mbps"] >= 1000,
           "the limit: simdjson parsing the same %d bodies from memory and nothing else "
           "(%.0f requests/s), as MB/s of the %.0f B lines obatch writes for them; obatch also "
           "checks, minifies, indexes the custom_id and writes the file" % (N_BIG, lim, line_bytes))
    bl.row(FIG, "MB/s JSONL, obatch_add_many (~1 MB buffers) vs simdjson alone",
           ob_many["mbps"], lim * line_bytes / 1e6, "simdjson 3 DOM, parse only, one core", True,
           ">= 1000 MB/s", ob_many["mbps"] >= 1000,
           "the same %d bodies as JSONL buffers of about 1 MB, one obatch_add_many each "
           "(one document stream per buffer); same checks and the same file bytes as "
           "obatch_add" % N_BIG)
    bl.row(FIG, "MB/s JSONL, obatch_add_file (full lines) vs simdjson alone",
           ob_file["mbps"], lim * line_bytes / 1e6, "simdjson 3 DOM, parse only, one core", True,
           ">= 1000 MB/s", ob_file["mbps"] >= 1000,
           "an input file of %d full lines (custom_id given: a duplicate lookup each), read "
           "4 MB at a time, hashed (SHA-256 for the journal) and checked" % N_BIG)
    bl.row(FIG, "peak RSS MB @%dk" % (N_SMALL // 1000), ob_small["rss"] / 1e6,
           pe_small["rss"] / 1e6, peer_name, False, None, None, "whole process")
    bl.row(FIG, "peak RSS MB @%dk" % (N_BIG // 1000), ob_big["rss"] / 1e6,
           pe_big["rss"] / 1e6, peer_name, False, None, None, "whole process")
    grow_ob = (ob_big["rss"] - ob_small["rss"]) / (N_BIG - N_SMALL)
    grow_pe = (pe_big["rss"] - pe_small["rss"]) / (N_BIG - N_SMALL)
    bl.row(FIG, "RSS growth B/request", grow_ob, max(grow_pe, 0.0), peer_name,
           False, "<= 128 B/request (custom_id index only)", grow_ob <= 128,
           "(RSS@%dk - RSS@%dk) / %d requests" % (N_BIG // 1000, N_SMALL // 1000, N_BIG - N_SMALL))

    gb = os.path.join(bl.ENV.build, "bench", "bench_add")
    if os.path.exists(gb):
        res = bl.google_benchmark(gb, "BM_Add/300$")
        b = res.get("BM_Add/300")
        if b:
            bl.row(FIG, "in-process requests/s (Google Benchmark BM_Add/300)",
                   b["items_per_second"], None, None, True, None, None,
                   "one obatch_add call per iteration, %.0f B lines" % b.get("line_bytes", 0))
            bl.row(FIG, "in-process MB/s (Google Benchmark BM_Add/300)",
                   b["bytes_per_second"] / 1e6, None, None, True, ">= 300 MB/s",
                   b["bytes_per_second"] / 1e6 >= 300, None)
    else:
        bl.log("fig01: %s not built (libbenchmark-dev missing?): no in-process rows" % gb)


if __name__ == "__main__":
    main()
