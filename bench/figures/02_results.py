#!/usr/bin/env python3
"""Figure 2: reading results. A 200 MB shuffled OpenAI batch output file
(+ its input file; bench/tools/gen_results.py) parsed and merged in input
order: obatch_open + obatch_fetch of every result (bench/drivers/
results_driver.c) vs a Python json.loads loop that merges by custom_id
(peers/results_json_loads.py), each as a whole process.

Rows: MB/s of output file (timed inside each process: open + every fetch;
medians of OBATCH_BENCH_REPEATS runs), peak RSS, plus the in-process Google
Benchmark BM_OpenFetch numbers, and obatch again over the same output with
its answers' text in lines (escaped newlines in every body, as real
completions have; gen_results.py --escapes).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

FIG = "2. read 200 MB of results"
SIZE_MB = max(1.0, 200 * bl.ENV.scale)
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with bl.scratch("fig02-results") as scratch:
        gen = os.path.join(bl.ENV.source, "bench", "tools", "gen_results.py")
        bl.log("fig02: generating %.0f MB of results in %s" % (SIZE_MB, scratch))
        m = bl.measure([sys.executable, gen, scratch, SIZE_MB])
        info = json.loads(m.stdout)
        n, out_bytes = info["n"], info["output_bytes"]
        inp, out = os.path.join(scratch, "input.jsonl"), os.path.join(scratch, "output.jsonl")

        drv = os.path.join(bl.ENV.build, "bench", "results_driver")
        ob = []
        for _ in range(bl.ENV.repeats):
            m = bl.measure([drv, inp, out])
            m.out = json.loads(m.stdout)
            if m.out["n"] != n or m.out["succeeded"] != n:
                raise RuntimeError("results_driver: %s, expected %d results" % (m.stdout, n))
            ob.append(m)
        bl.log("fig02: obatch over the output with escaped newlines")
        esc_dir = os.path.join(scratch, "escaped")
        m = bl.measure([sys.executable, gen, esc_dir, SIZE_MB, "--escapes"])
        esc_info = json.loads(m.stdout)
        esc = []
        for _ in range(bl.ENV.repeats):
            m = bl.measure([drv, os.path.join(esc_dir, "input.jsonl"),
                            os.path.join(esc_dir, "output.jsonl")])
            m.out = json.loads(m.stdout)
            if m.out["succeeded"] != esc_info["n"]:
                raise RuntimeError("results_driver (escaped): %s" % m.stdout)
            esc.append(m)
        bl.log("fig02: peer json.loads loop (%s)" % bl.ENV.python)
        pe = []
        for _ in range(bl.ENV.repeats):
            m = bl.measure([bl.ENV.python, os.path.join(HERE, "peers", "results_json_loads.py"),
                            inp, out])
            m.out = json.loads(m.stdout)
            if m.out["succeeded"] != n:
                raise RuntimeError("peer: %s, expected %d results" % (m.stdout, n))
            pe.append(m)
        bl.log("fig02: the limit: simdjson alone over the same two files")
        lim = []
        for _ in range(bl.ENV.repeats):
            m = bl.measure([os.path.join(bl.ENV.build, "bench", "simdjson_parse"), out, inp])
            runs = [json.loads(line) for line in m.stdout.splitlines() if line.strip()]
            if len(runs) != 2 or runs[0]["docs"] != n:
                raise RuntimeError("simdjson_parse: %s, expected %d documents" % (m.stdout, n))
            # Each file its faster way (a document stream or a parse per line).
            lim.append(sum(min(r["many_s"], r["per_line_s"]) for r in runs))

    peer_name = "Python json.loads loop, merge by custom_id"
    ob_mbps = bl.median([out_bytes / r.out["total_s"] / 1e6 for r in ob])
    pe_mbps = bl.median([out_bytes / r.out["total_s"] / 1e6 for r in pe])
    ob_open = bl.median([r.out["open_s"] for r in ob])
    ob_total = bl.median([r.out["total_s"] for r in ob])
    cores = bl.median([(r.user_s + r.sys_s) / r.wall_s for r in ob])
    note = ("%d results, %.0f MB output + %.0f MB input; open %.2f s of %.2f s; "
            "CPU/wall %.2f; median of %d" % (n, out_bytes / 1e6, info["input_bytes"] / 1e6,
                                             ob_open, ob_total, cores, bl.ENV.repeats))
    bl.row(FIG, "MB/s parsed + merged", ob_mbps, pe_mbps, peer_name, True, ">= 10x peer",
           ob_mbps / pe_mbps >= 10, note)
    bl.row(FIG, "MB/s on one core (absolute)", ob_mbps, None, None, True, ">= 1000 MB/s",
           ob_mbps >= 1000, "CPU/wall %.2f (1.0 = one core)" % cores)
    lim_mbps = bl.median([out_bytes / t / 1e6 for t in lim])
    bl.row(FIG, "MB/s vs simdjson alone (the limit)", ob_mbps, lim_mbps,
           "simdjson 3 DOM, parse only, one core", True, ">= 1000 MB/s", ob_mbps >= 1000,
           "the limit: simdjson parsing both files from memory, every line fully, nothing "
           "else (output bytes / its time, as for obatch); ratio < 1 is the share of it "
           "obatch reaches")
    esc_mbps = bl.median([esc_info["output_bytes"] / r.out["total_s"] / 1e6 for r in esc])
    bl.row(FIG, "MB/s, text with escaped newlines", esc_mbps, None, None, True, None, None,
           "the same results with every tenth space of each answer an escaped newline "
           "(gen_results.py --escapes), obatch only")
    bl.row(FIG, "peak RSS MB", bl.median([r.maxrss_bytes for r in ob]) / 1e6,
           bl.median([r.maxrss_bytes for r in pe]) / 1e6, peer_name, False, None, None,
           "whole process")

    gb = os.path.join(bl.ENV.build, "bench", "bench_results")
    if os.path.exists(gb):
        res = bl.google_benchmark(gb)
        for name, label in (("BM_OpenFetch", "open + fetch all"), ("BM_Fetch", "rewind + fetch all")):
            b = res.get(name)
            if b:
                bl.row(FIG, "in-process MB/s (Google Benchmark %s)" % name,
                       b["bytes_per_second"] / 1e6, None, None, True, None, None,
                       label + ", 20,000 results of ~800 B, in RAM (page cache)")
    else:
        bl.log("fig02: %s not built (libbenchmark-dev missing?): no in-process rows" % gb)


if __name__ == "__main__":
    main()
