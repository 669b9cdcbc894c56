#!/usr/bin/env python3
"""Figure 9 (issue 12): direct mode, 10,000 normal requests to a fast local server.

10,000 chat requests (benchlib.input_line: ~300 B bodies; x OBATCH_BENCH_SCALE) sent as
normal POST /v1/chat/completions requests to nginx (Debian's, started here as a
subprocess with a config written to the scratch dir: one worker, keep-alive without a
request limit, no access log, answering every POST with one fixed chat.completion body),
at 64 and at 256 requests in flight. Each client is one whole process (benchlib.measure:
wall time, user + sys CPU of its process tree):

- obatch: `obatch run --mode direct --concurrency N -p openai --base-url URL input.jsonl
  -o out.jsonl -e err.jsonl --state off` (libcurl's multi interface on one I/O thread).
- thread pool: peers/direct_thread_pool.py, what OpenAI's concurrent-requests guidance
  tells users to write: concurrent.futures.ThreadPoolExecutor(max_workers=N) and the
  `openai` SDK's client.chat.completions.create.
- asyncio: peers/direct_asyncio.py, AsyncOpenAI with an asyncio.Semaphore(N).

All three read the same input file and write one batch-output-format line per result
({"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}); the figure
fails unless each output holds every custom_id once with status 200 and no error line.

requests/s: obatch's whole process (start-up included); the peers' from the time they
print (reading the input to closing the files, after the imports and the client's
creation), which favours them; their whole-process rate is in the notes. CPU s per 1,000
requests: user + sys of each whole process (getrusage(RUSAGE_CHILDREN) in benchlib's
wrapper). Medians over OBATCH_BENCH_REPEATS; the three clients alternate within a repeat.
The notes give nginx's worker CPU during each client's runs (/proc/PID/stat), to show
when the server, not the client, was the limit.

nginx is required: without it the figure fails (apt-get install nginx; scripts/install-deps.sh
installs it). Without the `openai` package in OBATCH_PYTHON the rows have no peer.
"""

import json
import os
import pwd
import grp
import shutil
import signal
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

FIGURE = "9. direct mode, 10k requests"
CONCURRENCY = (64, 256)
TARGET_X = 10  # obatch's requests/s >= 10x the thread pool's
API_KEY = "bench-key"  # nginx checks none
THREADS = os.path.join(HERE, "peers", "direct_thread_pool.py")
ASYNCIO = os.path.join(HERE, "peers", "direct_asyncio.py")

# What nginx answers: a chat.completion as OpenAI sends it (no ' and no $ in it:
# it sits in a quoted nginx string).
ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1711652795,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant",
                                         "content": "Paris is the capital of France.",
                                         "refusal": None},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 64, "completion_tokens": 8, "total_tokens": 72},
    "system_fingerprint": "fp_0ba0d124f1"}, separators=(",", ":"))


def find_nginx():
    for p in (shutil.which("nginx"), "/usr/sbin/nginx", "/usr/local/sbin/nginx",
              "/usr/local/nginx/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx as a subprocess (daemon off, -p DIR): the config, pid, error log and temp
    dirs in DIR, one worker run as the current user."""

    def __init__(self, binary, d):
        self.binary, self.dir = binary, d
        self.proc = None

    def config(self, port):
        d = self.dir
        user = ""
        if os.geteuid() == 0:  # nginx's workers would be `nobody` otherwise
            user = "user %s %s;\n" % (pwd.getpwuid(os.getuid()).pw_name,
                                      grp.getgrgid(os.getgid()).gr_name)
        temps = "".join("  %s_temp_path %s;\n" % (t, os.path.join(d, t))
                        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        assert "'" not in ANSWER and "$" not in ANSWER
        return (
            "daemon off;\nmaster_process on;\nworker_processes 1;\n%s"
            "pid %s;\nerror_log %s warn;\nworker_rlimit_nofile 8192;\n"
            "events { worker_connections 4096; }\n"
            "http {\n  access_log off;\n%s"
            "  keepalive_requests 1000000000;\n  keepalive_timeout 300s;\n"
            "  server {\n    listen 127.0.0.1:%d backlog=4096;\n"
            "    location = /v1/chat/completions {\n"
            "      if ($request_method != POST) { return 405; }\n"
            "      default_type application/json;\n"
            "      add_header x-request-id req_bench always;\n"
            "      return 200 '%s';\n    }\n"
            "    location / { return 404; }\n  }\n}\n"
            % (user, os.path.join(d, "nginx.pid"), os.path.join(d, "error.log"), temps,
               port, ANSWER))

    def __enter__(self):
        last = ""
        for _ in range(5):  # a free port may be taken before nginx binds it
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.config(self.port))
            self.stderr = open(os.path.join(self.dir, "nginx.stderr"), "w+")
            self.proc = subprocess.Popen(
                [self.binary, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
            deadline = time.monotonic() + 10
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            if self.proc.poll() is None and time.monotonic() < deadline:
                self.base_url = "http://127.0.0.1:%d/v1" % self.port
                self.worker = self._worker()
                return self
            self.stop()
            last = self._log()
            if "in use" not in last:
                break
        raise RuntimeError("nginx did not start: %s" % last)

    def _log(self):
        out = ""
        for name in ("nginx.stderr", "error.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out.strip()[-2000:]

    def _worker(self):
        """The worker's pid: the master's only child."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:
                    return int(pid)
            time.sleep(0.02)
        raise RuntimeError("nginx started no worker: %s" % self._log())

    def cpu(self):
        """The worker's CPU seconds so far (user + sys)."""
        with open("/proc/%d/stat" % self.worker) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check(self):
        if self.proc.poll() is not None:
            raise RuntimeError("nginx exited (%s): %s" % (self.proc.returncode, self._log()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None

    def __exit__(self, *exc):
        self.stop()


def write_input(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(benchlib.input_line(i) + "\n")
    return os.path.getsize(path)


def check_output(out, err, n, who):
    want = {"request-%d" % (i + 1) for i in range(n)}
    seen = set()
    with open(out, "rb") as f:
        for k, line in enumerate(f):
            if not line.strip():
                continue
            r = json.loads(line)
            cid = r.get("custom_id")
            resp = r.get("response") or {}
            if cid not in want or cid in seen:
                raise RuntimeError("%s: line %d: custom_id %r unknown or answered twice"
                                   % (who, k + 1, cid))
            if resp.get("status_code") != 200 or r.get("error") is not None:
                raise RuntimeError("%s: line %d: %s" % (who, k + 1, line[:300]))
            if (resp.get("body") or {}).get("object") != "chat.completion":
                raise RuntimeError("%s: line %d has no chat.completion body: %s"
                                   % (who, k + 1, line[:300]))
            seen.add(cid)
    errors = os.path.getsize(err) if os.path.exists(err) else 0
    if seen != want or errors:
        with open(err, "rb") if errors else open(os.devnull, "rb") as f:
            first = f.readline()[:300]
        raise RuntimeError("%s: %d of %d custom_ids answered, %d bytes of errors %s"
                           % (who, len(seen), n, errors, first))


def peer_version(python):
    p = subprocess.run([python, "-c", "import openai; print(openai.__version__)"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


class Runs:
    def __init__(self):
        self.wall, self.cpu, self.inner, self.inner_cpu, self.server = [], [], [], [], []


def run_obatch(cli, srv, inp, n, c, d):
    out, err = os.path.join(d, "out.jsonl"), os.path.join(d, "err.jsonl")
    env = fig_server.lib_env({"OPENAI_API_KEY": API_KEY, "TMPDIR": d, "XDG_STATE_HOME": d,
                              "OBATCH_STATE": "off"})
    env.pop("OPENAI_BASE_URL", None)
    m = benchlib.measure([cli, "run", "--mode", "direct", "--concurrency", c, "-p", "openai",
                          "--base-url", srv.base_url, inp, "-o", out, "-e", err,
                          "--state", "off"], env=env, cwd=d)
    check_output(out, err, n, "obatch --concurrency %d" % c)
    return m, None


def run_peer(script, srv, inp, n, c, d):
    out, err = os.path.join(d, "out.jsonl"), os.path.join(d, "err.jsonl")
    m = benchlib.measure([ENV.python, script, srv.base_url, API_KEY, inp, out, err, c], cwd=d)
    got = json.loads(m.stdout.strip().splitlines()[-1])
    check_output(out, err, n, "%s %d" % (os.path.basename(script), c))
    return m, got


def once(runs, srv, d, run):
    """run(d) -> (Measurement, the peer's own report or None), in a fresh dir d."""
    os.makedirs(d)
    srv.check()
    s0 = srv.cpu()
    m, inner = run(d)
    srv.check()
    runs.server.append(srv.cpu() - s0)
    runs.wall.append(m.wall_s)
    runs.cpu.append(m.user_s + m.sys_s)
    if inner:
        runs.inner.append(inner["seconds"])
        runs.inner_cpu.append(inner["cpu_s"])
    shutil.rmtree(d, ignore_errors=True)
    return m


def spread(values, fmt="%.0f"):
    return ", ".join(fmt % v for v in values)


def main():
    nginx = find_nginx()
    if not nginx:
        log("fig09: FAILED: nginx not found (on PATH, /usr/sbin, /usr/local/sbin): the figure's "
            "server is Debian's nginx: apt-get install nginx (scripts/install-deps.sh installs it)")
        sys.exit(1)
    cli = fig_server.obatch_cli()
    version = peer_version(ENV.python)
    if not version:
        log("fig09: the openai package does not import in %s: the rows have no peer (run "
            "bench/run without --no-build once to make build-bench/bench-venv)" % ENV.python)
    n = benchlib.scaled(10_000, 50)
    judged = ENV.scale >= 0.1  # smaller runs check the harness; their numbers mean nothing
    clients = [("obatch", run_obatch, None)]
    if version:
        clients += [("threads", run_peer, THREADS), ("asyncio", run_peer, ASYNCIO)]
    with benchlib.scratch("fig09") as tmp:
        inp = os.path.join(tmp, "input.jsonl")
        size = write_input(inp, n)
        ndir = os.path.join(tmp, "nginx")
        os.makedirs(ndir)
        res = {c: {name: Runs() for name, _, _ in clients} for c in CONCURRENCY}
        with Nginx(nginx, ndir) as srv:
            log("fig09: %d requests (%.1f MB), nginx %s on port %d (worker pid %d)"
                % (n, size / 1e6, nginx, srv.port, srv.worker))
            for k in range(ENV.repeats):
                for c in CONCURRENCY:
                    for name, fn, script in clients:
                        d = os.path.join(tmp, "%s-%d-%d" % (name, c, k))
                        if fn is run_obatch:
                            m = once(res[c][name], srv, d,
                                     lambda d: run_obatch(cli, srv, inp, n, c, d))
                        else:
                            m = once(res[c][name], srv, d,
                                     lambda d: run_peer(script, srv, inp, n, c, d))
                        r = res[c][name]
                        log("fig09 run %d, %d in flight, %s: %.2f s wall (%.0f requests/s), CPU "
                            "%.2f s (user %.2f, sys %.2f)%s; nginx worker CPU %.2f s"
                            % (k + 1, c, name, m.wall_s, n / m.wall_s, m.user_s + m.sys_s,
                               m.user_s, m.sys_s,
                               ", timed inside %.2f s (%.0f requests/s)"
                               % (r.inner[-1], n / r.inner[-1]) if r.inner and fn is run_peer
                               else "", r.server[-1]))

    per_k = 1000.0 / n
    peer_names = {
        "threads": "openai %s ThreadPoolExecutor(max_workers=%%d) + chat.completions.create"
                   % version,
        "asyncio": "openai %s asyncio + AsyncOpenAI, Semaphore(%%d)" % version,
    }
    for c in CONCURRENCY:
        ob = res[c]["obatch"]
        ob_rps = n / median(ob.wall)
        ob_cpu = median(ob.cpu) * per_k
        base = ("%d requests (%.1f MB in) to nginx (1 worker), %d in flight; median of %d"
                % (n, size / 1e6, c, ENV.repeats))
        ob_note = ("obatch per run %s requests/s (whole process), CPU s %s, nginx worker CPU s "
                   "%s" % (spread([n / w for w in ob.wall]), spread(ob.cpu, "%.2f"),
                           spread(ob.server, "%.2f")))
        for name in ("threads", "asyncio"):
            p = res[c].get(name)
            pname = (peer_names[name] % c) if p else (
                "%s (missing: no openai in %s)" % (name, ENV.python))
            target = ">= %dx peer" % TARGET_X if name == "threads" else None
            if p:
                p_rps = n / median(p.inner)
                ratio = ob_rps / p_rps
                p_note = ("%s timed inside the process (after its imports): per run %s "
                          "requests/s; whole process %s requests/s; CPU s %s (inside %s); nginx "
                          "worker CPU s %s" % (name, spread([n / s for s in p.inner]),
                                               spread([n / w for w in p.wall]),
                                               spread(p.cpu, "%.2f"),
                                               spread(p.inner_cpu, "%.2f"),
                                               spread(p.server, "%.2f")))
            else:
                p_rps, ratio, p_note = None, None, "no peer"
            met = (ratio >= TARGET_X) if (target and judged and ratio is not None) else None
            row(FIGURE, "requests/s @%d in flight" % c, ob_rps, peer=p_rps, peer_name=pname,
                target=target, met=met, note="%s; %s; %s" % (base, ob_note, p_note))
            row(FIGURE, "client CPU s per 1,000 requests @%d in flight" % c, ob_cpu,
                peer=median(p.cpu) * per_k if p else None, peer_name=pname,
                higher_is_better=False,
                note="%s; user + sys of the whole process (start-up and imports included)"
                     % base)


if __name__ == "__main__":
    main()
