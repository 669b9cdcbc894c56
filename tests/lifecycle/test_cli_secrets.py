#!/usr/bin/env python3
"""Secrets and transport: an API key never shows up in what `obatch` prints or
writes (stdout, stderr, result and error files, the job journal, temporary and
work directories: every file, as bytes, plain and base64), nor on a command
line; it is sent only to its own provider's host (no redirect is followed, no
proxy gets it); TLS certificates are always verified, and a private CA is
trusted only when named with --ca-file."""

import base64
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from cli_support import (CLI, KEY_ENV, CliTestCase, FakeServer, chat_line,
                         read_jsonl)

COMMANDS = ("run", "status", "cancel", "download", "list", "create-input", "validate", "results")
PARASAIL_MODEL = "meta-llama/Llama-3.3-70B-Instruct"


def new_key():
    # Looks like a real project key, and is unlike anything else in the output.
    return "sk-proj-" + secrets.token_hex(24)


def needles(key):
    """The key's bytes, and its base64 at each of the three alignments (the
    middle part that does not depend on the bytes around it)."""
    raw = key.encode()
    out = [raw]
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw)
        out.append(enc[4 if shift else 0:-4])
    return out


class RecordingListener:
    """A plain HTTP server on another loopback port that records every request
    (its headers too) and answers 404: where a leaked key would land."""

    def __init__(self):
        self.requests = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the base class's name)
                seen.append({"method": self.command, "path": self.path,
                             "headers": dict(self.headers.items())})
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_DELETE = do_CONNECT = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


class TlsServer(FakeServer):
    """fake_batch_server.py serving https:// with the given certificate."""

    def __init__(self, cert, key, api_key):
        super().__init__(api_key=api_key, extra_args=["--tls-cert", cert, "--tls-key", key],
                         scheme="https")
        self.context = ssl.create_default_context(cafile=cert)

    def stats(self):
        with urllib.request.urlopen(self.root + "/_control/stats", timeout=10,
                                    context=self.context) as resp:
            return json.loads(resp.read())


class CliSecretsTest(CliTestCase):

    def setUp(self):
        super().setUp()
        # A server that knows only this test's own, distinctive key.
        self.key = new_key()
        self.server.stop()
        self.server = FakeServer(api_key=self.key)
        self.addCleanup(self.server.stop)
        self.secrets.append(self.key)
        self.extra_dirs = []

    # ---- helpers

    def obatch(self, *args, key=None, **kw):
        """run_cli with this test's key, then the leak check on everything."""
        proc = self.run_cli(*args, key=key or self.key, **kw)
        self.assert_no_key_anywhere(proc)
        return proc

    def assert_no_key_anywhere(self, proc=None):
        """No key (nor its base64) on stdout / stderr or in any file under the
        work, temp and state directories (the journal included), as bytes."""
        found = []
        for secret in self.secrets:
            for needle in needles(secret):
                if proc is not None:
                    for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
                        if needle in text.encode():
                            found.append(name)
                for top in [self.cwd, self.tmpdir, self.state_home] + self.extra_dirs:
                    for dirpath, _, files in os.walk(top):
                        for name in files:
                            path = os.path.join(dirpath, name)
                            if os.path.islink(path) or not os.path.isfile(path):
                                continue
                            with open(path, "rb") as f:
                                if needle in f.read():
                                    found.append(path)
        self.assertEqual(sorted(set(found)), [], "a key (or its base64) was found there")

    def files_written(self):
        out = []
        for top in (self.cwd, self.tmpdir, self.state_home):
            for dirpath, _, files in os.walk(top):
                out.extend(os.path.join(dirpath, f) for f in files)
        return out

    def assert_server_saw_only(self, server, key):
        requests = server.stats()["requests"]
        self.assertTrue(requests, "the server got no request")
        for r in requests:
            self.assertEqual(r["authorization"], "Bearer " + key,
                             "%s %s came with another key" % (r["method"], r["path"]))

    def create_batch(self, n=3, name="input.jsonl"):
        """`obatch run -c`: a batch that keeps running; returns its id."""
        self.chat_input(n, name)
        proc = self.obatch("run", "-c", name)
        self.assert_exit(proc, 0)
        return proc.stdout.strip().splitlines()[-1].strip()

    def key_env(self, **more):
        env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        env.update(OPENAI_API_KEY=self.key, OPENAI_BASE_URL=self.server.base_url,
                   TMPDIR=self.tmpdir, XDG_STATE_HOME=self.state_home)
        env.update(more)
        return env

    # ---- what obatch prints and writes

    def test_successful_run(self):
        self.server.config(fail_every=3)
        ids = self.chat_input(6)
        proc = self.obatch("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        bid = self.only_batch_id()
        self.assertEqual(len(read_jsonl(os.path.join(self.cwd, bid + "-output.jsonl"))), 4)
        self.assertEqual(len(read_jsonl(os.path.join(self.cwd, bid + "-errors.jsonl"))), 2)
        self.assertTrue(ids)
        self.assert_server_saw_only(self.server, self.key)

    def test_json_events(self):
        self.chat_input(4)
        proc = self.obatch("run", "input.jsonl", "--json", "-o", "out.jsonl",
                           "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        self.assertGreaterEqual(len(events), 2, proc.stdout)
        self.assertEqual(len(read_jsonl(os.path.join(self.cwd, "out.jsonl"))), 4)

    def test_status_list_download_cancel(self):
        self.server.config(steps=0)  # terminal on the first status check
        done = self.create_batch(3)
        for args in (["status", done, "-p", "openai"], ["status", done, "--json"],
                     ["list"], ["list", "--json", "--all"],
                     ["download", done, "--wait", "-o", "out.jsonl"]):
            with self.subTest(args=args):
                self.assert_exit(self.obatch(*args), 0)
        self.assertEqual(len(read_jsonl(os.path.join(self.cwd, "out.jsonl"))), 3)
        self.server.config(steps=1000)
        running = self.create_batch(2, "second.jsonl")
        proc = self.obatch("cancel", running, "-p", "openai")
        self.assert_exit(proc, 0)
        self.assert_exit(self.obatch("cancel", running, "--json"), 0)
        self.assert_server_saw_only(self.server, self.key)

    def test_wrong_key_names_the_variable_not_the_key(self):
        wrong = new_key()
        self.secrets.append(wrong)
        self.chat_input(2)
        for args in (["run", "input.jsonl"], ["list", "-p", "openai"],
                     ["status", "batch_x", "-p", "openai"]):
            with self.subTest(args=args):
                proc = self.obatch(*args, key=wrong)
                self.assert_exit(proc, 4)
                self.assertIn("OPENAI_API_KEY", proc.stderr)
                self.assertIn("401", proc.stderr)
        self.assertEqual(self.server.stats()["uploads"], 0)

    def test_server_down(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        self.chat_input(1)
        proc = self.obatch("list", "-p", "openai",
                           env={"OPENAI_BASE_URL": "http://127.0.0.1:%d/v1" % port})
        self.assert_exit(proc, 5)
        self.assertIn("no answer from 127.0.0.1", proc.stderr)

    def test_error_body_echoing_the_key_is_redacted(self):
        # A careless server (or proxy) puts the Authorization header it got
        # into its error message: obatch shows the message, not the key.
        self.server.config(faults=[{"method": "GET", "path": "/v1/batches",
                                    "kind": "echo_auth", "count": 100}])
        proc = self.obatch("list", "-p", "openai")
        self.assert_exit(proc, 5)
        self.assertIn("HTTP 500", proc.stderr)
        self.assertIn("Authorization: Bearer [redacted]", proc.stderr)
        self.assertGreater(self.server.stats()["faults_injected"], 0)

    # ---- command lines

    def test_no_key_on_any_command_line(self):
        self.server.config(steps=100000)  # the batch waits until we say so
        self.chat_input(2)
        proc = subprocess.Popen([CLI, "run", "input.jsonl", "--poll-interval", "0.05"],
                                cwd=self.cwd, env=self.key_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while not self.server.stats()["retrieves"] and time.monotonic() < deadline:
                if proc.poll() is not None:
                    self.fail("obatch ended early: %s" % (proc.communicate(),))
                time.sleep(0.05)
            self.assertGreater(self.server.stats()["retrieves"], 0, "obatch never waited")
            pids = process_tree(proc.pid)
            self.assertIn(proc.pid, pids)
            for pid in pids:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        cmdline = f.read()
                except FileNotFoundError:
                    continue  # a child that ended meanwhile
                for secret in self.secrets:
                    for needle in needles(secret):
                        self.assertNotIn(needle, cmdline, "a key in the argv of pid %d" % pid)
            bid = self.only_batch_id()
            self.server.call("POST", "/_control/advance/" + bid, {"status": "completed"})
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        for secret in self.secrets:
            self.assertNotIn(secret, out + err)
        self.assert_no_key_anywhere()

    def test_no_option_takes_a_key_or_turns_off_tls_checks(self):
        for command in COMMANDS:
            proc = self.obatch(command, "--help")
            self.assert_exit(proc, 0)
            options = re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", proc.stdout)
            for option in options:
                self.assertNotRegex(option, r"key|(?<!max-)(?<!enqueued-)token|secret|auth|passw|insecure|verif",
                                    "obatch %s offers %s" % (command, option))

    # ---- where the key may go

    def test_redirect_to_another_host_is_not_followed(self):
        other = RecordingListener()
        self.addCleanup(other.stop)
        self.server.config(redirect_location=other.url + "/v1/files?token=abc",
                           faults=[{"method": "POST", "path": "/v1/files", "kind": "307"}])
        self.chat_input(2)
        proc = self.obatch("run", "input.jsonl")
        self.assert_exit(proc, 5)
        self.server.config(faults=[{"method": "GET", "path": "/v1/batches", "kind": "302"}])
        proc2 = self.obatch("list", "-p", "openai")
        self.assert_exit(proc2, 5)
        for p, status in ((proc, "307"), (proc2, "302")):
            self.assertIn("redirected (HTTP %s) to 127.0.0.1:%d" % (status, other.port), p.stderr)
            self.assertIn("does not follow redirects", p.stderr)
            self.assertNotIn("token=abc", p.stderr)  # no path or query string
        self.assertEqual(other.requests, [], "something was sent where the redirect pointed")
        self.assertEqual(self.server.stats()["uploads"], 0)

    def test_same_host_redirect_is_not_followed_either(self):
        self.server.config(faults=[{"method": "GET", "path": "/v1/batches", "kind": "307"}])
        proc = self.obatch("list", "-p", "openai")
        self.assert_exit(proc, 5)
        self.assertIn("redirected (HTTP 307) to another path on 127.0.0.1", proc.stderr)
        self.assertEqual(len(self.server.stats()["requests"]), 1)

    def test_proxy_variables_never_get_the_key(self):
        # Plain http goes only to loopback, and never through a proxy: an
        # http_proxy would otherwise receive the key in clear.
        proxy = RecordingListener()
        self.addCleanup(proxy.stop)
        env = {name: proxy.url for name in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                            "HTTPS_PROXY", "all_proxy", "ALL_PROXY")}
        env.update(no_proxy="", NO_PROXY="")
        self.chat_input(2)
        proc = self.obatch("run", "input.jsonl", "--poll-interval", "0.01", env=env)
        self.assert_exit(proc, 0)
        self.assertEqual(proxy.requests, [])
        self.assert_server_saw_only(self.server, self.key)

    def test_each_key_goes_only_to_its_own_provider(self):
        parasail_key = new_key()
        self.secrets.append(parasail_key)
        parasail = FakeServer(api_key=parasail_key)
        self.addCleanup(parasail.stop)
        env = {"PARASAIL_API_KEY": parasail_key, "PARASAIL_BASE_URL": parasail.base_url}
        # Four different inputs, so that each run is a batch of its own.
        for name in ("openai.jsonl", "openai-auto.jsonl"):
            self.write_input(name, [chat_line("%s-%d" % (name, i), i) for i in range(2)])
        for name in ("parasail.jsonl", "parasail-auto.jsonl"):
            self.write_input(name, [chat_line("%s-%d" % (name, i), i, PARASAIL_MODEL)
                                    for i in range(2)])
        poll = ["--poll-interval", "0.01"]
        runs = (["run", "openai.jsonl", "-p", "openai"] + poll,
                ["run", "parasail.jsonl", "-p", "parasail"] + poll,
                ["run", "openai-auto.jsonl"] + poll,  # the provider chosen by model
                ["run", "parasail-auto.jsonl"] + poll,
                ["list"])  # every provider with a key
        for args in runs:
            with self.subTest(args=args):
                self.assert_exit(self.obatch(*args, env=env), 0)
        openai_batch = self.server.batches()[0]["id"]
        parasail_batch = parasail.batches()[0]["id"]
        # Without -p, obatch asks each provider about the id: each with its own key.
        for bid in (openai_batch, parasail_batch):
            self.assert_exit(self.obatch("status", bid, env=env), 0)
        self.assertEqual(len(self.server.batches()), 2)
        self.assertEqual(len(parasail.batches()), 2)
        self.assert_server_saw_only(self.server, self.key)
        self.assert_server_saw_only(parasail, parasail_key)

    def test_anthropic_key_goes_only_in_its_header_to_its_host(self):
        anthropic_key = new_key()
        self.secrets.append(anthropic_key)
        anthropic = FakeServer(api_key=anthropic_key)
        self.addCleanup(anthropic.stop)
        env = {"ANTHROPIC_API_KEY": anthropic_key, "ANTHROPIC_BASE_URL": anthropic.root}
        self.write_input("claude.jsonl", [
            {"custom_id": "c %d" % i, "method": "POST", "url": "/v1/messages",
             "body": {"model": "claude-sonnet-4-5", "max_tokens": 8,
                      "messages": [{"role": "user", "content": "hi"}]}} for i in range(2)])
        self.chat_input(2)
        poll = ["--poll-interval", "0.01"]
        for args in (["run", "claude.jsonl"] + poll,  # chosen by model
                     ["run", "input.jsonl", "-p", "openai"] + poll, ["list"]):
            with self.subTest(args=args):
                self.assert_exit(self.obatch(*args, env=env), 0)
        # Asked about the Anthropic batch without -p: each provider with its own key.
        claude_batch = anthropic.stats()["batches"][0]["id"]
        self.assert_exit(self.obatch("status", claude_batch, env=env), 0)
        self.assert_server_saw_only(self.server, self.key)
        requests = anthropic.stats()["requests"]
        self.assertTrue(requests)
        for r in requests:
            self.assertIsNone(r["authorization"], r)
            self.assertEqual(r["x_api_key"], anthropic_key, r)
        # A server echoing the header it got: the message is shown, the key is not.
        anthropic.config(faults=[{"method": "GET", "path": "/v1/messages/batches",
                                  "kind": "echo_auth", "count": 100}])
        proc = self.obatch("list", "-p", "anthropic", env=env)
        self.assert_exit(proc, 5)
        self.assertIn("x-api-key: [redacted]", proc.stderr)
        self.assert_no_key_anywhere(proc)

    # ---- TLS

    def tls_server(self):
        if not shutil.which("openssl"):
            self.skipTest("the openssl command is missing: cannot make a test certificate "
                          "(apt-get install openssl)")
        certs = tempfile.mkdtemp(prefix="obatch-certs-")
        self.addCleanup(shutil.rmtree, certs, True)
        cert, key = make_certificate(certs)
        server = TlsServer(cert, key, self.key)
        self.addCleanup(server.stop)
        return server, cert

    def test_self_signed_certificate_is_refused(self):
        server, _ = self.tls_server()
        self.chat_input(2)
        # Variables that turn checks off in other tools change nothing here.
        env = {"OPENAI_BASE_URL": server.base_url, "CURL_CA_BUNDLE": "", "CURL_INSECURE": "1",
               "GIT_SSL_NO_VERIFY": "1", "PYTHONHTTPSVERIFY": "0",
               "NODE_TLS_REJECT_UNAUTHORIZED": "0", "OBATCH_INSECURE": "1",
               "OBATCH_SSL_VERIFY": "0", "OBATCH_TLS_VERIFY": "0"}
        for args in (["run", "input.jsonl"], ["list", "-p", "openai"]):
            with self.subTest(args=args):
                started = time.monotonic()
                proc = self.obatch(*args, env=env)
                self.assert_exit(proc, 4)
                self.assertIn("TLS certificate of 127.0.0.1 is not trusted", proc.stderr)
                self.assertIn("certificate", proc.stderr.split("not trusted")[1])
                self.assertIn("--ca-file", proc.stderr)
                self.assertLess(time.monotonic() - started, 10, "a certificate error is retried")
        stats = server.stats()
        self.assertEqual(stats["requests"], [], "a request got through")
        self.assertGreaterEqual(stats["tls_handshake_failures"], 2)

    def test_ca_file_trusts_a_private_ca(self):
        server, cert = self.tls_server()
        self.extra_dirs.append(os.path.dirname(cert))
        ids = self.chat_input(3)
        env = {"OPENAI_BASE_URL": server.base_url}
        proc = self.obatch("run", "input.jsonl", "--ca-file", cert, "--poll-interval", "0.01",
                           "-o", "out.jsonl", env=env)
        self.assert_exit(proc, 0)
        self.check_output(os.path.join(self.cwd, "out.jsonl"), ids)
        batches = [r["path"].split("/")[3] for r in server.stats()["requests"]
                   if r["path"].startswith("/v1/batches/")]
        self.assertTrue(batches)
        for args in (["status", batches[0], "--ca-file", cert],  # asks each provider
                     ["list", "-p", "openai", "--ca-file", cert],
                     ["download", batches[0], "-p", "openai", "--ca-file", cert,
                      "-o", "again.jsonl"]):
            with self.subTest(args=args):
                self.assert_exit(self.obatch(*args, env=env), 0)
        stats = server.stats()
        self.assertEqual(stats["tls_handshake_failures"], 0)
        self.assertEqual(stats["uploads"], 1)
        for r in stats["requests"]:
            self.assertEqual(r["authorization"], "Bearer " + self.key)

    def test_ca_file_must_be_readable(self):
        self.chat_input(1)
        missing = os.path.join(self.cwd, "no-such-ca.pem")
        for path in (missing, self.cwd):
            with self.subTest(path=path):
                proc = self.obatch("run", "input.jsonl", "--ca-file", path)
                self.assert_exit(proc, 2)
                self.assertIn("ca_file '%s' cannot be read" % path, proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])


def process_tree(pid):
    """`pid` and all its descendants, from /proc/PID/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, tid), encoding="ascii") as f:
                    todo.extend(int(c) for c in f.read().split())
            except (FileNotFoundError, ProcessLookupError):
                pass
    return out


if __name__ == "__main__":
    unittest.main()
