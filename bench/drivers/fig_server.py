"""Helpers shared by bench/figures/03_memory.py .. 07_big_job.py (issue 6, figures 3-7).

  FakeServer(config, max_lifetime=900, backlog=None)
                          the test suite's fake Batch server (tests/fake_server), started on
                          127.0.0.1 with a free port; a context manager. backlog: its listen
                          queue (socketserver's default is 5: of more clients connecting at
                          once, some were reset or waited ~1 s, likely a SYN retransmit).
                          .base_url, .port,
                          .control(method, path, body=None) -> JSON of /_control/...,
                          .stats(), .reset(), .configure(dict), .api(method, path, body,
                          headers) -> (status, bytes) on /v1 with the key.
  API_KEY                 the key the server accepts
  find_driver()           path of figures_driver (built by bench/drivers/figures_3_6.cmake
                          into <build>/bench/; compiled here with cc when it is missing)
  obatch_cli()            path of the `obatch` command in the build dir
  lib_env(extra)          os.environ + LD_LIBRARY_PATH=<build> + extra
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "figures"))
import benchlib  # noqa: E402

ENV = benchlib.ENV
API_KEY = "test-key"
SERVER = os.path.join(ENV.source, "tests", "fake_server", "fake_batch_server.py")

# Runs the server's main() with a longer listen queue (the script itself is not changed).
_BACKLOG_LAUNCHER = r"""
import os, sys
sys.dont_write_bytecode = True  # no __pycache__ in tests/fake_server
script, backlog = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, os.path.dirname(script))
import fake_batch_server
fake_batch_server.FakeServer.request_queue_size = backlog
sys.exit(fake_batch_server.main(sys.argv[3:]))
"""


class FakeServer:
    def __init__(self, config=None, max_lifetime=900, backlog=None):
        self.config = dict(config or {})
        self.max_lifetime = max_lifetime
        self.backlog = backlog
        self.proc = None

    def __enter__(self):
        self._dir = tempfile.mkdtemp(prefix="fig-server-", dir=ENV.tmp)
        port_file = os.path.join(self._dir, "port")
        launch = ([sys.executable, "-c", _BACKLOG_LAUNCHER, SERVER, str(self.backlog)]
                  if self.backlog else [sys.executable, SERVER])
        self.proc = subprocess.Popen(
            launch + ["--port", "0", "--port-file", port_file,
                      "--api-key", API_KEY, "--config", json.dumps(self.config),
                      "--max-lifetime", str(self.max_lifetime)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("fake server exited: %s" % self.proc.stderr.read())
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        self.base_url = "http://127.0.0.1:%d/v1" % self.port
        self.root = "http://127.0.0.1:%d" % self.port
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def stop(self):
        if self.proc is None:
            return
        try:
            self.control("POST", "/_control/shutdown")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def _request(self, method, url, body=None, headers=None, timeout=600):
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if data is not None and "Content-Type" not in req.headers:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def control(self, method, path, body=None):
        status, data = self._request(method, self.root + path, body)
        if status != 200:
            raise RuntimeError("control %s %s: %d %s" % (method, path, status, data[:300]))
        return json.loads(data)

    def stats(self):
        return self.control("GET", "/_control/stats")

    def reset(self):
        return self.control("POST", "/_control/reset")

    def configure(self, update):
        return self.control("POST", "/_control/config", update)

    def api(self, method, path, body=None, headers=None):
        h = {"Authorization": "Bearer " + API_KEY}
        h.update(headers or {})
        return self._request(method, self.root + path, body, h)


def lib_env(extra=None):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ENV.build + (":" + env["LD_LIBRARY_PATH"]
                                          if env.get("LD_LIBRARY_PATH") else "")
    env.update(extra or {})
    return env


def obatch_cli():
    path = os.path.join(ENV.build, "obatch")
    if not os.access(path, os.X_OK):
        raise RuntimeError("no obatch command in %s" % ENV.build)
    return path


def find_driver():
    for cand in (os.path.join(ENV.build, "bench", "figures_driver"),
                 os.path.join(ENV.build, "figures_driver")):
        if os.access(cand, os.X_OK):
            return cand
    # Not built by CMake (bench not configured): compile it against the build's library.
    out_dir = os.path.join(ENV.tmp, "fig36-driver")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "figures_driver")
    src = os.path.join(ENV.source, "bench", "drivers", "figures_driver.c")
    if os.access(out, os.X_OK) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    benchlib.log("fig36: figures_driver not in the build dir; compiling it with", cc)
    subprocess.run([cc, "-O2", "-std=c11", "-I", os.path.join(ENV.source, "include"), src,
                    "-L", ENV.build, "-lobatch", "-Wl,-rpath," + ENV.build, "-o", out],
                   check=True)
    return out
