#!/usr/bin/env python3
"""Shared by the `obatch serve` tests: starting the server (a real process on a free
loopback port, in front of the test's fake server), HTTP calls to it, multipart uploads.
"""

import json
import os
import urllib.error
import urllib.request
import uuid

from cli_support import KEY, chat_line


class Serve:
    """One `obatch serve` process started by a fault_support.CliTestCase."""

    def __init__(self, case, *extra, upstream=True, data_dir=None, store=None, env=None):
        self.case = case
        self.data_dir = data_dir or os.path.join(case.cwd, "serve-data")
        self.store = store or os.path.join(case.cwd, "queue.db")
        self.port_file = os.path.join(case.cwd, "serve-port-%s" % uuid.uuid4().hex[:8])
        args = ["serve", "--listen", "127.0.0.1:0", "--port-file", self.port_file,
                "--data-dir", self.data_dir, "--store", self.store,
                "--flush-age", "1s", "--poll-interval", "0.1"]
        if upstream:
            args += ["--upstream", case.server.base_url]
        # The upstream's key reaches the server through its variable only.
        self.proc = case.start_cli(*(args + list(extra)),
                                   env=dict({"OBATCH_UPSTREAM_API_KEY": KEY}, **(env or {})))

        def port():
            try:
                with open(self.port_file, encoding="ascii") as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                return None
        self.port = case.wait_until(port, "obatch serve's port file", self.proc, timeout=20)
        self.root = "http://127.0.0.1:%d" % self.port
        self.base_url = self.root + "/v1"

    def call(self, method, path, body=None, key=None, content_type="application/json",
             headers=None):
        """(status, headers, parsed JSON or raw bytes) of one HTTP call."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        if isinstance(data, str):
            data = data.encode()
        req = urllib.request.Request(self.root + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if key:
            req.add_header("Authorization", "Bearer " + key)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, hdrs, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, hdrs, raw = err.code, err.headers, err.read()
        try:
            return status, hdrs, json.loads(raw)
        except ValueError:
            return status, hdrs, raw

    def upload(self, data, key=None, purpose="batch", filename="input.jsonl"):
        """POST /v1/files as multipart/form-data; (status, answer)."""
        boundary = "serveboundary" + uuid.uuid4().hex
        parts = b""
        if purpose is not None:
            parts += ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n%s\r\n"
                      % (boundary, purpose)).encode()
        parts += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: application/jsonl\r\n\r\n" % (boundary, filename)).encode()
        parts += data + ("\r\n--%s--\r\n" % boundary).encode()
        status, _, answer = self.call("POST", "/v1/files", parts, key=key,
                                      content_type="multipart/form-data; boundary=" + boundary)
        return status, answer

    def create_batch(self, file_id, key=None, window="24h", endpoint="/v1/chat/completions"):
        status, _, batch = self.call("POST", "/v1/batches", {
            "input_file_id": file_id, "endpoint": endpoint, "completion_window": window},
            key=key)
        self.case.assertEqual(status, 200, batch)
        return batch

    def wait_batch(self, batch_id, key=None, timeout=60, ended=True):
        def get():
            status, _, batch = self.call("GET", "/v1/batches/" + batch_id, key=key)
            self.case.assertEqual(status, 200, batch)
            if not ended or batch["status"] in ("completed", "failed", "expired", "cancelled"):
                return batch
            return None
        return self.case.wait_until(get, "batch " + batch_id, self.proc, timeout=timeout)

    def content(self, file_id, key=None):
        status, _, raw = self.call("GET", "/v1/files/%s/content" % file_id, key=key)
        self.case.assertEqual(status, 200, raw)
        if not isinstance(raw, bytes):  # one line parses as JSON by itself
            return [raw]
        return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]

    def stop(self):
        self.proc.terminate()
        return self.case.finish(self.proc, timeout=30)


def chat_jsonl(n, prefix="req", text="hello"):
    """n chat request lines (bytes); the i-th asks "<text> i"."""
    lines = []
    for i in range(n):
        line = chat_line("%s-%d" % (prefix, i), i)
        line["body"]["messages"][0]["content"] = "%s %d" % (text, i)
        lines.append(json.dumps(line))
    return ("\n".join(lines) + "\n").encode()


def check_error_shape(case, answer, status, code=None):
    case.assertIsInstance(answer, dict, answer)
    case.assertEqual(set(answer), {"error"}, answer)
    case.assertEqual(set(answer["error"]), {"message", "type", "param", "code"}, answer)
    case.assertTrue(answer["error"]["message"])
    if code is not None:
        case.assertEqual(answer["error"]["code"], code, (status, answer))
