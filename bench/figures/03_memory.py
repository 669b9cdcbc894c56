#!/usr/bin/env python3
"""Figure 3 of issue 6: memory on big files.

`obatch run` uploads a 200 MB input (50,000 requests of ~4 KB) to the fake Batch server
(steps=0: the batch ends at the first status check) and downloads its ~215 MB output;
its peak RSS (getrusage of the process, benchlib.measure) is compared with a Python script
that does what the openai-SDK-based tools do: read the whole input into memory, POST it
as one multipart body, poll, read the whole output into memory and write it out (urllib).

The fake server answers every chat request with a body that repeats the request's model,
so a long model name makes each result line as big as its request line: the output is
as big as the input without going past the 50,000-request limit.
Scale: input bytes and request count x OBATCH_BENCH_SCALE. Medians of
min(OBATCH_BENCH_REPEATS, 3) runs each (peak RSS hardly varies; a run moves ~400 MB).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "drivers"))
import benchlib  # noqa: E402
from benchlib import ENV, log, median, row  # noqa: E402
import fig_server  # noqa: E402

FIGURE = "3. memory, 200 MB up and down"
TARGET_MB = 64

PEER = os.path.join(HERE, "peers", "memory_whole_files.py")


def make_input(path, n, line_bytes):
    """n chat requests of exactly line_bytes bytes (newline included), one long model."""
    probe = benchlib.input_line(0, json.dumps(
        {"model": "", "messages": [{"role": "user", "content": "Question 0000000"}]},
        separators=(",", ":")))
    pad = max(0, line_bytes - 1 - len(probe))
    model = "gpt-4o-mini-" + benchlib._text(1, pad)[:max(0, pad - 12)].replace(" ", "-")
    total = 0
    with open(path, "w") as f:
        for i in range(n):
            body = json.dumps({"model": model, "messages": [
                {"role": "user", "content": "Question %07d" % i}]}, separators=(",", ":"))
            line = benchlib.input_line(i, body) + "\n"
            total += len(line)
            f.write(line)
    return total


def main():
    n = benchlib.scaled(50000, 20)
    target_bytes = int(199_000_000 * ENV.scale)
    line_bytes = max(200, target_bytes // n)
    repeats = min(ENV.repeats, 3)
    cli = fig_server.obatch_cli()
    with benchlib.scratch("fig03") as tmp:
        inp = os.path.join(tmp, "input.jsonl")
        in_bytes = make_input(inp, n, line_bytes)
        log("fig03: input %d requests, %.1f MB" % (n, in_bytes / 1e6))
        ob_rss, ob_wall, peer_rss, peer_wall, out_sizes = [], [], [], [], []
        with fig_server.FakeServer({"steps": 0}) as srv:
            env = fig_server.lib_env({"OPENAI_API_KEY": fig_server.API_KEY})
            out = os.path.join(tmp, "out.jsonl")
            err = os.path.join(tmp, "err.jsonl")
            for k in range(repeats):
                srv.reset()  # the server keeps every file in memory: start empty
                m = benchlib.measure([cli, "run", inp, "-p", "openai", "--base-url",
                                      srv.base_url, "-o", out, "-e", err, "-q"], env=env)
                out_sizes.append(os.path.getsize(out))
                ob_rss.append(m.maxrss_bytes / 1e6)
                ob_wall.append(m.wall_s)
                log("fig03: obatch run %d: %.1f MB RSS, %.1f s, output %.1f MB"
                    % (k + 1, ob_rss[-1], m.wall_s, out_sizes[-1] / 1e6))
                os.unlink(out)
                srv.reset()
                m = benchlib.measure([ENV.python, PEER, srv.base_url, fig_server.API_KEY,
                                      inp, out])
                peer_rss.append(m.maxrss_bytes / 1e6)
                peer_wall.append(m.wall_s)
                log("fig03: python peer %d: %.1f MB RSS, %.1f s, output %.1f MB"
                    % (k + 1, peer_rss[-1], m.wall_s, os.path.getsize(out) / 1e6))
                os.unlink(out)
            srv.reset()
    rss = median(ob_rss)
    out_mb = median(out_sizes) / 1e6
    note = ("obatch run: %d requests, %.0f MB up, %.0f MB down (fake server, steps=0); "
            "median of %d" % (n, in_bytes / 1e6, out_mb, repeats))
    row(FIGURE, "peak RSS MB", rss, peer=median(peer_rss), peer_name="python, whole files",
        higher_is_better=False, target="<= %d MB" % TARGET_MB if ENV.scale >= 1 else
        "<= %d MB (at scale 1)" % TARGET_MB, met=(rss <= TARGET_MB) if ENV.scale >= 1 else None,
        note=note)
    row(FIGURE, "wall s, upload + wait + download", median(ob_wall), peer=median(peer_wall),
        peer_name="python, whole files", higher_is_better=False,
        note="includes the fake server's own parsing (Python); both check the status "
             "first after 1 s")


if __name__ == "__main__":
    main()
