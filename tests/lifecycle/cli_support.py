#!/usr/bin/env python3
"""Shared by the `obatch` command's tests: the fake server process and a base
test case that runs the command in a fresh temporary directory.

Each test starts its own fake server (tests/fake_server/fake_batch_server.py)
on a free loopback port. Environment (CMake sets it): OBATCH_CLI (the `obatch`
binary), OBATCH_FAKE_SERVER (the server script), OBATCH_PYTHON (its
interpreter).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

CLI = os.environ.get("OBATCH_CLI", "")
SERVER = os.environ.get("OBATCH_FAKE_SERVER", "")
PYTHON = os.environ.get("OBATCH_PYTHON") or sys.executable
KEY = "test-key"  # the fake server's key
KEY_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PARASAIL_API_KEY", "PARASAIL_BASE_URL",
           "OBATCH_STATE", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OBATCH_PROVIDERS",
           "XDG_CONFIG_HOME")


class FakeServer:
    """One fake_batch_server.py process; stop() always ends it."""

    def __init__(self, config=None, api_key=KEY, extra_args=(), scheme="http"):
        self.tmp = tempfile.mkdtemp(prefix="obatch-fake-")
        self.api_key = api_key
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", "0", "--port-file", port_file, "--api-key", api_key,
             "--max-lifetime", "300", "--config", json.dumps(config or {})] + list(extra_args),
            stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("fake server exited with %s" % self.proc.returncode)
            try:
                with open(port_file, encoding="ascii") as f:
                    port = int(f.read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.02)
        if port is None:
            self.stop()
            raise RuntimeError("fake server wrote no port file within 10 s")
        self.root = "%s://127.0.0.1:%d" % (scheme, port)
        self.base_url = self.root + "/v1"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def call(self, method, path, body=None, auth=None, content_type="application/json"):
        """(status, parsed JSON or raw bytes) of one HTTP call."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        req = urllib.request.Request(self.root + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if auth:
            req.add_header("Authorization", "Bearer " + auth)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def stats(self):
        status, stats = self.call("GET", "/_control/stats")
        assert status == 200, stats
        return stats

    def config(self, **update):
        status, answer = self.call("POST", "/_control/config", update)
        assert status == 200, answer

    def batches(self):
        status, page = self.call("GET", "/v1/batches?limit=100", auth=self.api_key)
        assert status == 200, page
        return page["data"]


def chat_line(cid, n=0, model="gpt-4o-mini"):
    return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": "hi %d" % n}]}}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@unittest.skipUnless(CLI and SERVER, "OBATCH_CLI and OBATCH_FAKE_SERVER must be set")
class CliTestCase(unittest.TestCase):
    """Runs `obatch` against a fresh fake server in a fresh directory."""

    def setUp(self):
        self.server = FakeServer()
        self.addCleanup(self.server.stop)
        self.cwd = tempfile.mkdtemp(prefix="obatch-cli-")
        self.addCleanup(shutil.rmtree, self.cwd, True)
        self.secrets = [KEY]  # values that must never be printed
        # The library's private work dirs go here, not into the shared /tmp.
        self.tmpdir = tempfile.mkdtemp(prefix="obatch-cli-tmp-")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)
        # Each test has its own job journal ($XDG_STATE_HOME/obatch/jobs.db).
        self.state_home = tempfile.mkdtemp(prefix="obatch-cli-state-")
        self.addCleanup(shutil.rmtree, self.state_home, True)

    # ---- helpers

    def write_input(self, name, lines):
        path = os.path.join(self.cwd, name)
        with open(path, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line if isinstance(line, str) else json.dumps(line))
                f.write("\n")
        return path

    def chat_input(self, n, name="input.jsonl"):
        ids = ["req-%d" % i for i in range(1, n + 1)]
        self.write_input(name, [chat_line(cid, i) for i, cid in enumerate(ids)])
        return ids

    def run_cli(self, *args, key=KEY, base_url=True, env=None, timeout=40, stdin=None):
        """Runs `obatch ARGS` in the temp dir with a clean key environment."""
        full_env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        if key is not None:
            full_env["OPENAI_API_KEY"] = key
        if base_url:
            full_env["OPENAI_BASE_URL"] = self.server.base_url
        full_env["TMPDIR"] = self.tmpdir
        full_env["XDG_STATE_HOME"] = self.state_home
        full_env.update(env or {})
        proc = subprocess.run([CLI] + list(args), cwd=self.cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout,
                              input=stdin if stdin is not None else "")
        for secret in self.secrets:
            self.assertNotIn(secret, proc.stdout, "a key was printed on stdout")
            self.assertNotIn(secret, proc.stderr, "a key was printed on stderr")
        return proc

    def assert_exit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         "exit %d, wanted %d\nstdout: %s\nstderr: %s"
                         % (proc.returncode, code, proc.stdout, proc.stderr))

    def only_batch_id(self):
        batches = self.server.batches()
        self.assertEqual(len(batches), 1)
        return batches[0]["id"]

    def check_output(self, path, ids):
        """The output file has exactly `ids`, each a 200 echoing its custom_id."""
        lines = read_jsonl(path)
        self.assertEqual(sorted(line["custom_id"] for line in lines), sorted(ids))
        for line in lines:
            self.assertEqual(line["response"]["status_code"], 200)
            content = line["response"]["body"]["choices"][0]["message"]["content"]
            self.assertEqual(content, "echo: " + line["custom_id"])

    def check_errors(self, path, ids):
        lines = read_jsonl(path)
        self.assertEqual(sorted(line["custom_id"] for line in lines), sorted(ids))
        for line in lines:
            self.assertEqual(line["response"]["status_code"], 400)
            self.assertEqual(line["response"]["body"]["error"]["code"], "fake_failure")

    def no_temp_files(self, directory):
        leftovers = [n for n in os.listdir(directory) if ".part-" in n]
        self.assertEqual(leftovers, [])

    def remote_batch(self, ids, model="gpt-4o-mini", server=None):
        """Creates a batch of chat requests at the fake server directly (as
        another process would) and returns its id."""
        server = server or self.server
        data = "".join(json.dumps(chat_line(cid, i, model)) + "\n" for i, cid in enumerate(ids))
        boundary = "obatchtestboundary"
        body = ("--{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                "Content-Type: application/jsonl\r\n\r\n{d}\r\n--{b}--\r\n"
                ).format(b=boundary, d=data).encode()
        status, file_obj = server.call("POST", "/v1/files", body, auth=KEY,
                                       content_type="multipart/form-data; boundary=" + boundary)
        self.assertEqual(status, 200, file_obj)
        status, batch = server.call("POST", "/v1/batches", {
            "input_file_id": file_obj["id"], "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}, auth=KEY)
        self.assertEqual(status, 200, batch)
        return batch["id"]
