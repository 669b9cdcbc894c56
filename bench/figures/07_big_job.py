#!/usr/bin/env python3
"""Figure 7 (issue 11): a job bigger than one batch.

1,000,000 chat requests (~300 B lines, ~300 MB; x OBATCH_BENCH_SCALE) cut into 20 parts
against the fake Batch server (steps=0: a batch ends at its first status check;
max_requests_per_file = the part size, so a part too big fails):

- obatch: `obatch run input.jsonl --max-requests-per-batch N -o out.jsonl -e err.jsonl
  --poll-interval 0.05 --state <fresh journal>` as a whole process (benchlib.measure:
  wall time, peak RSS). It checks every line, cuts the input while reading, runs every
  part on its own thread (upload, create, wait, download) and merges the parts' outputs
  in input order.
- peer: peers/split_merge_threads.py, what a user writes today (stdlib only): split into
  20 files, one thread per part (upload, create, poll every 0.05 s, download), then
  json.loads of every output line into a dict by custom_id and json.dumps in input order.
- raw: the same HTTP calls and nothing else (http.client, the 20 part files cut before
  the clock starts, one thread and one connection per part, all at once like both
  clients): upload, create, one status check, download the output to nowhere. The fake
  server (Python) does most of the work of a run; own work = wall - raw, per repeat.
  Also timed one part after another (notes only).

Rows: own work (obatch vs peer), the client processes' CPU (user + sys: the same work
without the server's noise), whole wall time, own work and peak RSS at a tenth of the
size (one run each), peak RSS at the size, its growth per 100 MB of input. The notes give
the fake server's CPU seconds during each run (/proc/PID/stat) and, from one more obatch
run sampled every 10 ms, its peak RssAnon / RssFile. Both outputs must hold every
custom_id once, in input order, and obatch must have made 20 batches of N (the figure
fails otherwise). The goal: a peak RSS that does not grow with the input (<= 64 MB at
1 GB of input). The server runs with a listen queue of BACKLOG (fig_server).
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "drivers"))
import benchlib  # noqa: E402
from benchlib import ENV, log, median, row  # noqa: E402
import fig_server  # noqa: E402

FIGURE = "7. big job, 1M requests in 20 parts"
PARTS = 20
TARGET_RSS_MB = 64
BODY_BYTES = 220       # + the line's own fields: ~300 B lines
DISTINCT_BODIES = 1024  # cycled, as in figure 1
POLL_S = 0.05
# The fake server's listen queue: with socketserver's 5, some of the 20 connections each
# client opens at once were reset or waited ~1 s (likely a SYN retransmit), at random.
BACKLOG = 128
PEER = os.path.join(HERE, "peers", "split_merge_threads.py")
PEER_NAME = "python split + 20 threads + json.loads merge (stdlib)"


def write_input(path, n):
    bodies = [benchlib.chat_body(i, BODY_BYTES) for i in range(min(n, DISTINCT_BODIES))]
    total = 0
    with open(path, "w") as f:
        for i in range(n):
            line = benchlib.input_line(i, bodies[i % len(bodies)]) + "\n"
            total += len(line)
            f.write(line)
    return total


def cut(path, per, out_dir):
    """The raw run's part files (made before its clock starts)."""
    os.makedirs(out_dir, exist_ok=True)
    paths, f_out = [], None
    with open(path, "rb") as f:
        for k, line in enumerate(f):
            if k % per == 0:
                if f_out:
                    f_out.close()
                paths.append(os.path.join(out_dir, "part-%d.jsonl" % len(paths)))
                f_out = open(paths[-1], "wb")
            f_out.write(line)
    if f_out:
        f_out.close()
    return paths


def raw_part(srv, path, errors):
    auth = {"Authorization": "Bearer " + fig_server.API_KEY}
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)

    def send(method, p, body=None, headers=None):
        # 20 threads connect at once: should the server's accept queue overflow, a reset
        # before the answer is retried, as the peer and the openai SDK do.
        for attempt in range(6):
            try:
                conn.request(method, "/v1" + p, body=body() if callable(body) else body,
                             headers=dict(auth, **(headers or {})))
                return conn.getresponse()
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                conn.close()
                if attempt == 5:
                    raise
                time.sleep(0.05)

    def call(method, p, body=None, headers=None):
        resp = send(method, p, body, headers)
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError("raw %s %s: %d %s" % (method, p, resp.status, data[:300]))
        return json.loads(data)

    try:
        boundary = uuid.uuid4().hex
        head = ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"part.jsonl\""
                "\r\nContent-Type: application/jsonl\r\n\r\n" % (boundary, boundary)).encode()
        tail = ("\r\n--%s--\r\n" % boundary).encode()

        def pieces():
            yield head
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    yield chunk
            yield tail

        fid = call("POST", "/files", pieces, {
            "Content-Type": "multipart/form-data; boundary=" + boundary,
            "Content-Length": str(len(head) + os.path.getsize(path) + len(tail))})["id"]
        b = call("POST", "/batches", json.dumps({
            "input_file_id": fid, "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}), {"Content-Type": "application/json"})
        b = call("GET", "/batches/" + b["id"])
        if b["status"] != "completed":
            raise RuntimeError("raw: batch is %s" % b["status"])
        for fid in (b.get("output_file_id"), b.get("error_file_id")):
            if fid:
                resp = send("GET", "/files/%s/content" % fid)
                if resp.status != 200:
                    raise RuntimeError("raw download: %d" % resp.status)
                while resp.read(1 << 20):
                    pass
        conn.close()
    except Exception as e:  # noqa: BLE001 (raised by raw_job)
        errors.append(repr(e))


def raw_job(srv, parts, concurrent=True):
    errors = []
    t0 = time.perf_counter()
    if concurrent:
        threads = [threading.Thread(target=raw_part, args=(srv, p, errors)) for p in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for p in parts:
            raw_part(srv, p, errors)
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError("raw calls failed: %s" % "; ".join(errors))
    return elapsed


def ids_of(path):
    with open(path, "rb") as f:
        return [json.loads(line)["custom_id"] for line in f if line.strip()]


def check_output(path, n, who):
    got = ids_of(path)
    if len(got) != n or got != ["request-%d" % (i + 1) for i in range(n)]:
        bad = next((k for k, (a, b) in enumerate(zip(got, ("request-%d" % (i + 1)
                                                               for i in range(n)))) if a != b),
                   min(len(got), n))
        raise RuntimeError("%s: output has %d results, not the %d custom_ids in input order "
                           "(first difference at line %d)" % (who, len(got), n, bad + 1))


class Sizes:
    """One scale: n requests, `per` a part, its input file and pre-cut parts."""

    def __init__(self, tmp, name, n):
        self.per = max(1, n // PARTS)
        self.n = self.per * PARTS
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.input = os.path.join(self.dir, "input.jsonl")
        self.bytes = write_input(self.input, self.n)
        self.parts = cut(self.input, self.per, os.path.join(self.dir, "raw-parts"))
        assert len(self.parts) == PARTS


def server_cpu(srv):
    """The fake server's CPU seconds so far (user + sys, /proc/PID/stat)."""
    with open("/proc/%d/stat" % srv.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sampled(argv, env, cwd):
    """Runs argv, reading /proc/PID/status every 10 ms: the peaks of RssAnon (heap,
    stacks) and RssFile (mapped files: page cache the kernel may drop) and VmHWM, in MB.
    A diagnostic run: the reported numbers come from benchlib.measure."""
    peaks = {"RssAnon": 0, "RssFile": 0, "VmHWM": 0}
    err_path = os.path.join(cwd, "sampled.stderr")
    with open(err_path, "w") as err:  # a file, not a pipe nobody reads while it runs
        p = subprocess.Popen([str(a) for a in argv], env=env, cwd=cwd,
                             stdout=subprocess.DEVNULL, stderr=err)
        path = "/proc/%d/status" % p.pid
        while p.poll() is None:
            try:
                with open(path) as f:
                    for line in f:
                        key = line.split(":", 1)[0]
                        if key in peaks:
                            peaks[key] = max(peaks[key], int(line.split()[1]) / 1024)
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.01)
    if p.returncode != 0:
        with open(err_path, errors="replace") as f:
            raise RuntimeError("obatch run failed (exit %d): %s" % (p.returncode, f.read()))
    return peaks


def run_obatch(cli, srv, s, k, sample=False):
    run_dir = os.path.join(s.dir, "obatch-%s" % k)
    os.makedirs(run_dir)
    out, err = os.path.join(run_dir, "out.jsonl"), os.path.join(run_dir, "err.jsonl")
    env = fig_server.lib_env({"OPENAI_API_KEY": fig_server.API_KEY,
                              "OPENAI_BASE_URL": srv.base_url, "TMPDIR": run_dir,
                              "XDG_STATE_HOME": run_dir})
    env.pop("OBATCH_STATE", None)
    argv = [cli, "run", s.input, "--max-requests-per-batch", s.per, "-o", out, "-e", err,
            "--poll-interval", POLL_S, "--state", os.path.join(run_dir, "journal.sqlite")]
    m = sampled(argv, env, run_dir) if sample else benchlib.measure(argv, env=env, cwd=run_dir)
    stats = srv.stats()
    sizes = sorted(b["requests"] for b in stats["batches"])
    if stats["uploads"] != PARTS or sizes != [s.per] * PARTS:
        raise RuntimeError("obatch: %d uploads, batches of %s requests; wanted %d of %d"
                           % (stats["uploads"], sizes, PARTS, s.per))
    check_output(out, s.n, "obatch")
    out_bytes = os.path.getsize(out)
    shutil.rmtree(run_dir, ignore_errors=True)
    return m, out_bytes


def run_peer(srv, s, k):
    run_dir = os.path.join(s.dir, "peer-%d" % k)
    os.makedirs(run_dir)
    out = os.path.join(run_dir, "merged.jsonl")
    m = benchlib.measure([ENV.python, PEER, srv.base_url, fig_server.API_KEY, s.input,
                          s.per, out, run_dir, POLL_S])
    d = json.loads(m.stdout.strip().splitlines()[-1])
    if d["parts"] != PARTS:
        raise RuntimeError("peer made %d parts" % d["parts"])
    check_output(out, s.n, "peer")
    shutil.rmtree(run_dir, ignore_errors=True)
    return m


def measure_scale(cli, s, repeats, label):
    ob, peer, raw, raw_seq, ob_out = [], [], [], [], []
    cpu = {"obatch": [], "raw": [], "peer": []}  # the fake server's CPU s per run
    with fig_server.FakeServer({"steps": 0, "max_requests_per_file": s.per},
                               max_lifetime=6 * 3600, backlog=BACKLOG) as srv:
        def timed(who, fn, *args, **kw):
            srv.reset()  # the server keeps every file in memory: start empty
            c0 = server_cpu(srv)
            r = fn(*args, **kw)
            cpu[who].append(server_cpu(srv) - c0)
            return r

        for k in range(repeats):
            m, out_bytes = timed("obatch", run_obatch, cli, srv, s, k)
            ob.append(m)
            ob_out.append(out_bytes)
            raw.append(timed("raw", raw_job, srv, s.parts))
            srv.reset()
            raw_seq.append(raw_job(srv, s.parts, concurrent=False))
            peer.append(timed("peer", run_peer, srv, s, k))
            log("fig07 %s run %d: obatch %.2f s %.1f MB RSS (CPU user %.2f s, sys %.2f s), "
                "raw %.2f s (one part after another %.2f s), peer %.2f s %.1f MB RSS (CPU "
                "%.2f s); server CPU s: obatch's run %.2f, raw %.2f, peer's %.2f"
                % (label, k + 1, m.wall_s, m.maxrss_bytes / 1e6, m.user_s, m.sys_s, raw[-1],
                   raw_seq[-1], peer[-1].wall_s, peer[-1].maxrss_bytes / 1e6,
                   peer[-1].user_s + peer[-1].sys_s, cpu["obatch"][-1], cpu["raw"][-1],
                   cpu["peer"][-1]))
        srv.reset()
        mem, _ = run_obatch(cli, srv, s, "sampled", sample=True)
        log("fig07 %s obatch, sampled every 10 ms: peak RssAnon %.1f MB, RssFile %.1f MB, "
            "VmHWM %.1f MB" % (label, mem["RssAnon"], mem["RssFile"], mem["VmHWM"]))
        srv.reset()
    own = [m.wall_s - r for m, r in zip(ob, raw)]
    peer_own = [m.wall_s - r for m, r in zip(peer, raw)]
    return dict(
        ob_wall=median([m.wall_s for m in ob]), peer_wall=median([m.wall_s for m in peer]),
        raw=median(raw), raw_seq=median(raw_seq), raw_all=raw,
        ob_own=median(own), peer_own=median(peer_own), ob_own_all=own, peer_own_all=peer_own,
        ob_cpu=median([m.user_s + m.sys_s for m in ob]),
        peer_cpu=median([m.user_s + m.sys_s for m in peer]),
        srv_cpu={k: median(v) for k, v in cpu.items()},
        ob_rss=median([m.maxrss_bytes / 1e6 for m in ob]),
        peer_rss=median([m.maxrss_bytes / 1e6 for m in peer]),
        mem=mem, out_mb=median(ob_out) / 1e6, repeats=repeats)


def spread(values):
    return ", ".join("%.2f" % v for v in values)


def main():
    cli = fig_server.obatch_cli()
    n = benchlib.scaled(1_000_000, PARTS * 100)
    with benchlib.scratch("fig07") as tmp:
        big = Sizes(tmp, "big", n)
        small = Sizes(tmp, "small", max(PARTS * 50, big.n // 10))
        log("fig07: %d requests (%.1f MB, parts of %d) and %d (%.1f MB) for the RSS growth"
            % (big.n, big.bytes / 1e6, big.per, small.n, small.bytes / 1e6))
        b = measure_scale(cli, big, ENV.repeats, "%dk" % (big.n // 1000))
        sm = measure_scale(cli, small, 1, "%dk" % (small.n // 1000))

    mb, mb_small = big.bytes / 1e6, small.bytes / 1e6
    judged = ENV.scale >= 0.1  # smaller runs check the harness; their numbers mean nothing
    where = ("%d requests, %.0f MB in, %.0f MB out, %d parts of %d"
             % (big.n, mb, b["out_mb"], PARTS, big.per))
    srv = b["srv_cpu"]
    row(FIGURE, "own work s (wall - raw HTTP: cutting, uploading, merging)", b["ob_own"],
        peer=b["peer_own"], peer_name=PEER_NAME, higher_is_better=False,
        note="%s; median of %d (per run obatch %s, peer %s); raw = http.client, 20 parts at "
             "once: upload, create, 1 status check, download: %s s (one part after another "
             "%.2f s); the fake server's CPU s in each: obatch's run %.2f, raw %.2f, peer's "
             "%.2f; both clients poll every %g s; obatch checks every line, the peer none"
             % (where, b["repeats"], spread(b["ob_own_all"]), spread(b["peer_own_all"]),
                spread(b["raw_all"]), b["raw_seq"], srv["obatch"], srv["raw"], srv["peer"],
                POLL_S))
    row(FIGURE, "client CPU s (user+sys of the process)", b["ob_cpu"], peer=b["peer_cpu"],
        peer_name=PEER_NAME, higher_is_better=False,
        note="%s; median of %d; the same work counted without the server's noise (waits "
             "not included)" % (where, b["repeats"]))
    row(FIGURE, "wall s, whole run (fake server included)", b["ob_wall"], peer=b["peer_wall"],
        peer_name=PEER_NAME, higher_is_better=False,
        note="%s; median of %d; the fake server (Python, one process) is most of it: raw "
             "%.2f s" % (where, b["repeats"], b["raw"]))
    row(FIGURE, "own work s @%dk requests" % (small.n // 1000), sm["ob_own"],
        peer=sm["peer_own"], peer_name=PEER_NAME, higher_is_better=False,
        note="%.3g MB in, parts of %d; 1 run; raw %.2f s; wall obatch %.2f s, peer %.2f s; "
             "client CPU obatch %.2f s, peer %.2f s" % (mb_small, small.per, sm["raw"],
                                                       sm["ob_wall"], sm["peer_wall"],
                                                       sm["ob_cpu"], sm["peer_cpu"]))
    target = "<= %d MB at 1 GB in" % TARGET_RSS_MB

    def mem_note(m):
        return ("obatch sampled every 10 ms in one more run: peak RssAnon %.1f MB (heap, "
                "stacks), RssFile %.1f MB (mapped files: its libraries and the files it "
                "maps, page cache the kernel may drop)" % (m["RssAnon"], m["RssFile"]))

    row(FIGURE, "peak RSS MB @%dk requests (%.3g MB in)" % (small.n // 1000, mb_small),
        sm["ob_rss"], peer=sm["peer_rss"], peer_name=PEER_NAME, higher_is_better=False,
        note="1 run each; " + mem_note(sm["mem"]))
    # RSS grows with the input (the next row), so a peak over the target at a smaller
    # input is over it at 1 GB too.
    over = judged and b["ob_rss"] > TARGET_RSS_MB
    row(FIGURE, "peak RSS MB @%dk requests (%.3g MB in)" % (big.n // 1000, mb), b["ob_rss"],
        peer=b["peer_rss"], peer_name=PEER_NAME, higher_is_better=False, target=target,
        met=False if over else None,
        note="median of %d; %s; met: NO once over %d MB at any input size (it grows), else "
             "see the next row" % (b["repeats"], mem_note(b["mem"]), TARGET_RSS_MB))
    grow = (b["ob_rss"] - sm["ob_rss"]) / (mb - mb_small)
    grow_peer = (b["peer_rss"] - sm["peer_rss"]) / (mb - mb_small)
    at_gb = b["ob_rss"] + grow * (1000 - mb)
    anon_grow = (b["mem"]["RssAnon"] - sm["mem"]["RssAnon"]) / (big.n - small.n) * 1e6
    row(FIGURE, "peak RSS growth MB per 100 MB of input", 100 * grow, peer=100 * grow_peer,
        peer_name=PEER_NAME, higher_is_better=False,
        target=target + " (linear from the two sizes)",
        met=(at_gb <= TARGET_RSS_MB) if judged else None,
        note="(RSS@%dk - RSS@%dk) / (%.0f - %.3g MB); obatch's extrapolated to 1 GB in: "
             "%.0f MB; RssAnon alone grows %.0f B a request"
             % (big.n // 1000, small.n // 1000, mb, mb_small, at_gb, anon_grow))

if __name__ == "__main__":
    main()
