#!/usr/bin/env python3
"""`obatch run` end to end against the fake Batch API server.

Each test starts its own fake server (tests/fake_server/fake_batch_server.py)
on a free loopback port and runs the command in a fresh temporary directory.
Environment (CMake sets it): OBATCH_CLI (the `obatch` binary),
OBATCH_FAKE_SERVER (the server script), OBATCH_PYTHON (its interpreter).
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
KEY_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PARASAIL_API_KEY", "PARASAIL_BASE_URL")


class FakeServer:
    """One fake_batch_server.py process; stop() always ends it."""

    def __init__(self, config=None):
        self.tmp = tempfile.mkdtemp(prefix="obatch-fake-")
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", "0", "--port-file", port_file,
             "--max-lifetime", "300", "--config", json.dumps(config or {})],
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
        self.root = "http://127.0.0.1:%d" % port
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
        status, page = self.call("GET", "/v1/batches?limit=100", auth=KEY)
        assert status == 200, page
        return page["data"]


def chat_line(cid, n=0, model="gpt-4o-mini"):
    return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": "hi %d" % n}]}}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@unittest.skipUnless(CLI and SERVER, "OBATCH_CLI and OBATCH_FAKE_SERVER must be set")
class CliRunTest(unittest.TestCase):

    def setUp(self):
        self.server = FakeServer()
        self.addCleanup(self.server.stop)
        self.cwd = tempfile.mkdtemp(prefix="obatch-cli-")
        self.addCleanup(shutil.rmtree, self.cwd, True)
        self.secrets = [KEY]  # values that must never be printed
        # The library's private work dirs go here, not into the shared /tmp.
        self.tmpdir = tempfile.mkdtemp(prefix="obatch-cli-tmp-")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)

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

    def run_cli(self, *args, key=KEY, base_url=True, env=None, timeout=40):
        """Runs `obatch ARGS` in the temp dir with a clean key environment."""
        full_env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        if key is not None:
            full_env["OPENAI_API_KEY"] = key
        if base_url:
            full_env["OPENAI_BASE_URL"] = self.server.base_url
        full_env["TMPDIR"] = self.tmpdir
        full_env.update(env or {})
        proc = subprocess.run([CLI] + list(args), cwd=self.cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout)
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

    # ---- cases

    def test_success_writes_results_in_cwd(self):
        self.server.config(fail_every=4)
        ids = self.chat_input(12)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        bid = self.only_batch_id()
        out_name, err_name = bid + "-output.jsonl", bid + "-errors.jsonl"
        self.assertIn(out_name, proc.stdout)
        self.assertIn(err_name, proc.stdout)
        failing = [cid for i, cid in enumerate(ids, 1) if i % 4 == 0]
        self.check_output(os.path.join(self.cwd, out_name),
                          [cid for cid in ids if cid not in failing])
        self.check_errors(os.path.join(self.cwd, err_name), failing)
        self.assertIn("--resume " + bid, proc.stderr)
        self.no_temp_files(self.cwd)
        self.assertEqual(os.listdir(self.tmpdir), [], "the work dir was left behind")
        stats = self.server.stats()
        self.assertEqual(stats["uploads"], 1)
        self.assertEqual(stats["batches_created"], 1)

    def test_output_and_error_paths(self):
        self.server.config(fail_every=3)
        ids = self.chat_input(6)
        os.mkdir(os.path.join(self.cwd, "res"))
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01",
                            "-o", "res/out.jsonl", "--error-file", "res/err.jsonl")
        self.assert_exit(proc, 0)
        self.assertIn("res/out.jsonl", proc.stdout)
        self.assertIn("res/err.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, "res", "out.jsonl"),
                          [ids[0], ids[1], ids[3], ids[4]])
        self.check_errors(os.path.join(self.cwd, "res", "err.jsonl"), [ids[2], ids[5]])
        bid = self.only_batch_id()
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-output.jsonl")))
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-errors.jsonl")))
        self.no_temp_files(os.path.join(self.cwd, "res"))

    def test_bad_input_sends_nothing(self):
        self.write_input("input.jsonl", [chat_line("a"), '{"custom_id": "b", "method": ',
                                         chat_line("c")])
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 3)
        self.assertIn("line 2", proc.stderr)
        self.assertIn("input.jsonl", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_failed_batch_exit_6(self):
        self.server.config(final_status="failed")
        self.chat_input(4)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 6)
        self.assertIn("fake validation failure", proc.stderr)

    def test_expired_exit_7_keeps_partial_output(self):
        self.server.config(final_status="expired", partial_fraction=0.5)
        ids = self.chat_input(10)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 7)
        bid = self.only_batch_id()
        self.assertIn(bid + "-output.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids[:5])
        self.assertIn("expired", proc.stderr)

    def test_cancelled_exit_8_keeps_partial_output(self):
        self.server.config(final_status="cancelled", partial_fraction=0.5)
        ids = self.chat_input(10)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 8)
        bid = self.only_batch_id()
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids[:5])
        self.assertIn("cancelled", proc.stderr)

    def test_resume_downloads_existing_batch(self):
        ids = ["r-%d" % i for i in range(8)]
        data = "".join(json.dumps(chat_line(cid, i)) + "\n" for i, cid in enumerate(ids))
        boundary = "obatchtestboundary"
        body = ("--{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                "Content-Type: application/jsonl\r\n\r\n{d}\r\n--{b}--\r\n"
                ).format(b=boundary, d=data).encode()
        status, file_obj = self.server.call("POST", "/v1/files", body, auth=KEY,
                                            content_type="multipart/form-data; boundary="
                                            + boundary)
        self.assertEqual(status, 200, file_obj)
        status, batch = self.server.call("POST", "/v1/batches", {
            "input_file_id": file_obj["id"], "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}, auth=KEY)
        self.assertEqual(status, 200, batch)
        bid = batch["id"]
        # --base-url instead of OPENAI_BASE_URL.
        proc = self.run_cli("run", "--resume", bid, "-p", "openai", "--poll-interval", "0.01",
                            "--base-url", self.server.base_url, base_url=False)
        self.assert_exit(proc, 0)
        self.assertIn(bid + "-output.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids)
        stats = self.server.stats()
        self.assertEqual(stats["uploads"], 1)
        self.assertEqual(stats["batches_created"], 1)

    def test_resume_needs_provider(self):
        proc = self.run_cli("run", "--resume", "batch_abc")
        self.assert_exit(proc, 4)
        self.assertIn("--provider", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_embeddings_endpoint(self):
        ids = ["e-%d" % i for i in range(5)]
        self.write_input("emb.jsonl", [
            {"custom_id": cid, "method": "POST", "url": "/v1/embeddings",
             "body": {"model": "text-embedding-3-small", "input": "text %d" % i}}
            for i, cid in enumerate(ids)])
        proc = self.run_cli("run", "emb.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        batches = self.server.batches()
        self.assertEqual(len(batches), 1)
        self.assertEqual(batches[0]["endpoint"], "/v1/embeddings")
        lines = read_jsonl(os.path.join(self.cwd, batches[0]["id"] + "-output.jsonl"))
        self.assertEqual(sorted(line["custom_id"] for line in lines), ids)
        for line in lines:
            self.assertEqual(line["response"]["body"]["object"], "list")

    def test_missing_key_exit_4(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", key=None)
        self.assert_exit(proc, 4)
        self.assertIn("OPENAI_API_KEY", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_wrong_key_exit_4_never_printed(self):
        wrong = "sk-wrong-key-0123456789abcdef"
        self.secrets.append(wrong)
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01", key=wrong)
        self.assert_exit(proc, 4)
        self.assertIn("OPENAI_API_KEY", proc.stderr)
        requests = self.server.stats()["requests"]
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in requests],
                         [("POST", "/v1/files", 401)])

    def test_insecure_url_exit_4(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--base-url", "http://example.com/v1")
        self.assert_exit(proc, 4)
        self.assertIn("example.com", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_usage_errors_exit_2(self):
        self.chat_input(1)
        self.assert_exit(self.run_cli("run"), 2)
        self.assert_exit(self.run_cli("run", "input.jsonl", "--resume", "batch_x", "-p",
                                      "openai"), 2)
        self.assert_exit(self.run_cli("run", "input.jsonl", "--no-such-flag"), 2)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_help_lists_exit_codes(self):
        proc = self.run_cli("--help")
        self.assert_exit(proc, 0)
        text = proc.stdout
        self.assertIn("Exit codes", text)
        for phrase in ("0 completed", "2 usage", "3 bad input", "4 key", "5 network",
                       "6 batch failed", "7 batch expired", "8 batch cancelled",
                       "9 local file"):
            self.assertIn(phrase, text)
        self.assertIn("run", text)
        self.assertIn("OPENAI_API_KEY", text)

    def test_version(self):
        proc = self.run_cli("--version")
        self.assert_exit(proc, 0)
        self.assertRegex(proc.stdout.strip(), r"^obatch \d+\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
