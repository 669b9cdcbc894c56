#!/usr/bin/env python3
"""Figure 11 (issue 15): the batch gateway's overhead, requests/s through `obatch serve`
versus the same requests sent straight to the upstream.

10,000 chat requests (benchlib.input_line; x OBATCH_BENCH_SCALE) to figure 9's upstream:
Debian's nginx answering every POST /v1/chat/completions with one fixed chat.completion
(09_direct.Nginx), 64 in flight, measured side by side in one run (the two alternate
within each repeat):

- direct: `obatch run --mode direct --concurrency 64 -p openai --base-url NGINX input.jsonl
  -o out.jsonl --state off`: the requests straight to the upstream, the fastest client
  there is here (figure 9).
- through serve: `obatch serve --upstream NGINX --concurrency 64` (started once, before the
  repeats), and `obatch run -p openai --base-url SERVE input.jsonl -o out.jsonl --state off
  --poll-interval 0.05`: upload through the gateway, create the batch, the server runs it
  in direct mode upstream (each result durable on disk, per-batch journal), poll, download.
  The whole client process is timed: the gateway's whole cost for a batch, start to result
  file.

Both outputs must hold every custom_id once, each a 200 chat.completion (else the figure
fails). The row: requests/s through serve (obatch) against direct (peer); the note gives
the overhead in per cent and the per-run numbers. nginx is required (as in figure 9).
"""

import importlib.util
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "drivers"))
import benchlib  # noqa: E402
from benchlib import ENV, log, median, row  # noqa: E402
import fig_server  # noqa: E402

_spec = importlib.util.spec_from_file_location("fig09", os.path.join(HERE, "09_direct.py"))
fig09 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fig09)

FIGURE = "11. serve: batch gateway overhead"
CONCURRENCY = 64


class Serve:
    """`obatch serve --upstream URL` as a subprocess on a free loopback port."""

    def __init__(self, cli, upstream, d):
        self.dir = d
        port_file = os.path.join(d, "port")
        self.log = open(os.path.join(d, "serve.log"), "w+")
        env = fig_server.lib_env({"TMPDIR": d, "XDG_STATE_HOME": d})
        env.pop("OPENAI_BASE_URL", None)
        self.proc = subprocess.Popen(
            [cli, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file, "--data-dir",
             os.path.join(d, "data"), "--store", os.path.join(d, "queue.db"), "--upstream",
             upstream, "--concurrency", str(CONCURRENCY)],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("obatch serve exited: %s" % self.text())
            try:
                with open(port_file) as f:
                    self.port = int(f.read())
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        else:
            raise RuntimeError("obatch serve did not start: %s" % self.text())
        self.base_url = "http://127.0.0.1:%d/v1" % self.port

    def text(self):
        self.log.seek(0)
        return self.log.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_client(cli, base_url, inp, n, d, direct):
    out, err = os.path.join(d, "out.jsonl"), os.path.join(d, "err.jsonl")
    env = fig_server.lib_env({"OPENAI_API_KEY": fig09.API_KEY, "TMPDIR": d,
                              "XDG_STATE_HOME": d, "OBATCH_STATE": "off"})
    env.pop("OPENAI_BASE_URL", None)
    argv = [cli, "run", "-p", "openai", "--base-url", base_url, inp, "-o", out, "-e", err,
            "--state", "off"]
    argv += (["--mode", "direct", "--concurrency", CONCURRENCY] if direct
             else ["--poll-interval", "0.05"])
    m = benchlib.measure(argv, env=env, cwd=d)
    fig09.check_output(out, err, n, "direct" if direct else "through serve")
    return m


def main():
    nginx = fig09.find_nginx()
    if not nginx:
        log("fig11: FAILED: nginx not found (apt-get install nginx; scripts/install-deps.sh)")
        sys.exit(1)
    cli = fig_server.obatch_cli()
    n = benchlib.scaled(10_000, 50)
    walls = {"direct": [], "serve": []}
    with benchlib.scratch("fig11") as tmp:
        inp = os.path.join(tmp, "input.jsonl")
        size = fig09.write_input(inp, n)
        ndir, sdir = os.path.join(tmp, "nginx"), os.path.join(tmp, "serve")
        os.makedirs(ndir)
        os.makedirs(sdir)
        with fig09.Nginx(nginx, ndir) as upstream:
            serve = Serve(cli, upstream.base_url, sdir)
            try:
                log("fig11: %d requests (%.1f MB), nginx on port %d, obatch serve on port %d"
                    % (n, size / 1e6, upstream.port, serve.port))
                for k in range(ENV.repeats):
                    for name in ("direct", "serve"):
                        d = os.path.join(tmp, "%s-%d" % (name, k))
                        os.makedirs(d)
                        upstream.check()
                        base = upstream.base_url if name == "direct" else serve.base_url
                        m = run_client(cli, base, inp, n, d, name == "direct")
                        walls[name].append(m.wall_s)
                        log("fig11 run %d, %s: %.2f s wall (%.0f requests/s)"
                            % (k + 1, name, m.wall_s, n / m.wall_s))
            finally:
                serve.stop()
    direct_rps = n / median(walls["direct"])
    serve_rps = n / median(walls["serve"])
    overhead = (1 - serve_rps / direct_rps) * 100
    row(FIGURE, "requests/s through obatch serve @%d in flight" % CONCURRENCY, serve_rps,
        peer=direct_rps,
        peer_name="obatch run --mode direct straight to the upstream (nginx)",
        note="%d requests (%.1f MB in), median of %d; serve: upload + create + run upstream "
             "(durable results, journal) + poll + download, whole client process; overhead "
             "%.1f%% of direct's requests/s; per run: serve %s, direct %s requests/s"
             % (n, size / 1e6, ENV.repeats, overhead,
                ", ".join("%.0f" % (n / w) for w in walls["serve"]),
                ", ".join("%.0f" % (n / w) for w in walls["direct"])))


if __name__ == "__main__":
    main()
