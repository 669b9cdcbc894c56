#!/usr/bin/env python3
"""Self-test for fake_batch_server.py (standard library only).

Starts the server as a subprocess on a free port, drives it over HTTP with
http.client, and prints "N passed, M failed". Exits non-zero on any failure.

    python3 tests/fake_server/selftest.py
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_batch_server.py")
KEY = "test-key-selftest"
AUTH = {"Authorization": f"Bearer {KEY}"}
TERMINAL = ("completed", "expired", "failed", "cancelled")


class Client:
    """A tiny HTTP client; one keep-alive connection, reopened after errors."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None, auth=True):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        all_headers = dict(AUTH if auth else {})
        all_headers.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        return resp.status, resp, data

    def json(self, method, path, body=None, expect=200, **kw):
        status, _, data = self.request(method, path, body, **kw)
        obj = json.loads(data)
        assert status == expect, f"{method} {path}: {status} != {expect}: {obj}"
        return obj

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # ---- API helpers

    def upload(self, lines, purpose="batch", expect=200):
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        body, ctype = multipart({"purpose": purpose}, ("file", "input.jsonl", data))
        return self.json("POST", "/v1/files", body, expect, headers={"Content-Type": ctype})

    def create_batch(self, file_id, endpoint="/v1/chat/completions", expect=200, **extra):
        args = {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
        args.update(extra)
        return self.json("POST", "/v1/batches", args, expect)

    def run_to_end(self, batch_id, limit=20):
        seen = []
        for _ in range(limit):
            batch = self.json("GET", f"/v1/batches/{batch_id}")
            seen.append(batch["status"])
            if batch["status"] in TERMINAL:
                return batch, seen
        raise AssertionError(f"batch never finished: {seen}")

    def content_lines(self, file_id):
        status, resp, data = self.request("GET", f"/v1/files/{file_id}/content")
        assert status == 200 and resp.getheader("Content-Type") == "application/octet-stream"
        return [json.loads(line) for line in data.decode().splitlines()]

    def config(self, **cfg):
        return self.json("POST", "/_control/config", cfg, auth=False)

    def stats(self):
        return self.json("GET", "/_control/stats", auth=False)


def multipart(fields, file_part):
    boundary = "----selftest" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   f"{value}\r\n".encode())
    name, filename, data = file_part
    out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
               f'filename="{filename}"\r\nContent-Type: application/jsonl\r\n\r\n'.encode()
               + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def chat_lines(n, prefix="req"):
    return [{"custom_id": f"{prefix}-{i}", "method": "POST", "url": "/v1/chat/completions",
             "body": {"model": "gpt-test", "messages": [{"role": "user", "content": f"hi {i}"}]}}
            for i in range(1, n + 1)]


# --------------------------------------------------------------------------- tests


def test_auth(c):
    status, _, data = c.request("GET", "/v1/batches", auth=False)
    err = json.loads(data)["error"]
    assert status == 401 and err["code"] == "invalid_api_key", (status, err)
    status, _, data = c.request("GET", "/v1/batches", auth=False,
                                headers={"Authorization": "Bearer wrong-secret"})
    assert status == 401 and b"wrong-secret" not in data, data
    assert set(err) == {"message", "type", "param", "code"}


def test_full_lifecycle(c):
    lines = chat_lines(8)
    f = c.upload(lines)
    assert f["object"] == "file" and f["purpose"] == "batch" and f["id"].startswith("file-")
    assert f["bytes"] == sum(len(json.dumps(x)) + 1 for x in lines), f
    assert c.json("GET", f"/v1/files/{f['id']}")["id"] == f["id"]
    batch = c.create_batch(f["id"], metadata={"run": "selftest"})
    assert batch["status"] == "validating"
    for key in ("model", "errors", "output_file_id", "error_file_id", "in_progress_at",
                "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at",
                "cancelling_at", "cancelled_at", "request_counts", "usage", "metadata"):
        assert key in batch, key
    assert batch["request_counts"] == {"total": 8, "completed": 0, "failed": 0}
    done, seen = c.run_to_end(batch["id"])
    assert seen == ["validating", "in_progress", "finalizing", "completed"], seen
    assert done["error_file_id"] is None and done["output_file_id"]
    assert done["completed_at"] and done["in_progress_at"] and done["finalizing_at"]
    assert done["request_counts"] == {"total": 8, "completed": 8, "failed": 0}
    assert done["usage"]["total_tokens"] > 0
    out = c.content_lines(done["output_file_id"])
    ids = [line["custom_id"] for line in out]
    assert sorted(ids) == sorted(x["custom_id"] for x in lines), ids
    assert ids != [x["custom_id"] for x in lines], "output must not be in input order"
    body = out[0]["response"]["body"]
    assert out[0]["response"]["status_code"] == 200 and out[0]["error"] is None
    assert body["choices"][0]["message"]["content"] == f"echo: {out[0]['custom_id']}"
    assert body["model"] == "gpt-test" and body["object"] == "chat.completion"
    listed = c.json("GET", "/v1/files?purpose=batch_output")
    assert done["output_file_id"] in [x["id"] for x in listed["data"]]


def test_fail_every(c):
    c.config(fail_every=2, fail_custom_ids=["req-1"])
    try:
        f = c.upload(chat_lines(6))
        done, _ = c.run_to_end(c.create_batch(f["id"])["id"])
    finally:
        c.config(fail_every=0, fail_custom_ids=[])
    assert done["request_counts"] == {"total": 6, "completed": 2, "failed": 4}, done
    errors = c.content_lines(done["error_file_id"])
    assert sorted(e["custom_id"] for e in errors) == ["req-1", "req-2", "req-4", "req-6"]
    assert errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["code"] == "fake_failure"
    assert len(c.content_lines(done["output_file_id"])) == 2


def test_expired(c):
    c.config(final_status="expired")
    try:
        f = c.upload(chat_lines(6))
        done, _ = c.run_to_end(c.create_batch(f["id"])["id"])
    finally:
        c.config(final_status="completed")
    assert done["status"] == "expired" and done["expired_at"], done
    assert done["request_counts"] == {"total": 6, "completed": 3, "failed": 0}
    got = sorted(x["custom_id"] for x in c.content_lines(done["output_file_id"]))
    assert got == ["req-1", "req-2", "req-3"], got


def test_failed_and_invalid_url(c):
    c.config(final_status="failed")
    try:
        f = c.upload(chat_lines(2))
        done, _ = c.run_to_end(c.create_batch(f["id"])["id"])
    finally:
        c.config(final_status="completed")
    assert done["status"] == "failed" and done["output_file_id"] is None
    assert done["errors"]["data"][0]["code"] == "fake_validation_failure"
    f = c.upload(chat_lines(2))
    done, _ = c.run_to_end(c.create_batch(f["id"], endpoint="/v1/embeddings")["id"])
    err = done["errors"]["data"][0]
    assert done["status"] == "failed" and err["code"] == "invalid_url" and err["line"] == 1


def test_cancel(c):
    f = c.upload(chat_lines(4))
    batch = c.create_batch(f["id"])
    cancelling = c.json("POST", f"/v1/batches/{batch['id']}/cancel")
    assert cancelling["status"] == "cancelling" and cancelling["cancelling_at"]
    done, seen = c.run_to_end(batch["id"])
    assert seen == ["cancelling", "cancelled"], seen
    assert done["request_counts"] == {"total": 4, "completed": 2, "failed": 0}
    got = sorted(x["custom_id"] for x in c.content_lines(done["output_file_id"]))
    assert got == ["req-1", "req-2"], got
    err = c.json("POST", f"/v1/batches/{batch['id']}/cancel", expect=400)
    assert "cancel" in err["error"]["message"].lower()


def test_list_paging(c):
    c.json("POST", "/_control/reset", auth=False)
    f = c.upload(chat_lines(1))
    created = [c.create_batch(f["id"])["id"] for _ in range(3)]
    seen, after, pages = [], None, []
    while True:
        page = c.json("GET", "/v1/batches?limit=1" + (f"&after={after}" if after else ""))
        pages.append(page["has_more"])
        seen += [b["id"] for b in page["data"]]
        assert page["first_id"] == page["last_id"] == page["data"][0]["id"]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == created[::-1], (seen, created)
    assert pages == [True, True, False], pages
    assert c.json("GET", "/v1/batches?limit=0", expect=400)["error"]["param"] == "limit"


def test_embeddings(c):
    lines = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
              "body": {"model": "emb-test", "input": "x"}} for i in range(3)]
    f = c.upload(lines)
    c.config(steps=0)
    try:
        done, seen = c.run_to_end(c.create_batch(f["id"], endpoint="/v1/embeddings")["id"])
    finally:
        c.config(steps=1)
    assert seen == ["completed"], seen
    body = c.content_lines(done["output_file_id"])[0]["response"]["body"]
    assert body["data"][0]["embedding"] == [0.1, 0.2, 0.3] and body["model"] == "emb-test"


def test_upload_validation(c):
    assert c.upload(chat_lines(1), purpose="fine-tune", expect=400)["error"]["param"]
    lines = chat_lines(3)
    lines[2]["custom_id"] = "req-1"
    msg = c.upload(lines, expect=400)["error"]["message"]
    assert "Line 3" in msg and "duplicate" in msg, msg
    lines = chat_lines(2)
    lines[1]["url"] = "/v1/embeddings"
    assert "Line 2" in c.upload(lines, expect=400)["error"]["message"]


def test_metadata_limit(c):
    f = c.upload(chat_lines(1))
    metadata = {f"k{i}": "v" for i in range(17)}
    err = c.create_batch(f["id"], metadata=metadata, expect=400)["error"]
    assert err["param"] == "metadata" and err["type"] == "invalid_request_error", err
    err = c.create_batch(f["id"], completion_window="48h", expect=400)["error"]
    assert err["param"] == "completion_window"
    err = c.create_batch(f["id"], endpoint="/v1/nope", expect=400)["error"]
    assert err["param"] == "endpoint"
    assert c.create_batch("file-missing", expect=404)["error"]["param"] == "input_file_id"


def test_reset_fault(c):
    c.config(faults=[{"method": "GET", "path_prefix": "/v1/batches/", "kind": "reset"}])
    try:
        c.request("GET", "/v1/batches/batch_x")
    except (ConnectionError, http.client.HTTPException):
        pass  # RemoteDisconnected is a ConnectionResetError too
    else:
        raise AssertionError("expected a connection error")
    status, _, _ = c.request("GET", "/v1/batches/batch_x")  # one-shot: now a normal 404
    assert status == 404, status


def test_429_fault(c):
    c.config(faults=[{"method": "GET", "path": "/v1/batches", "kind": "429", "count": 2}],
             retry_after="3")
    try:
        for _ in range(2):
            status, resp, data = c.request("GET", "/v1/batches")
            assert status == 429 and resp.getheader("Retry-After") == "3", status
            assert json.loads(data)["error"]["code"] == "rate_limit_exceeded"
        assert c.request("GET", "/v1/batches")[0] == 200  # same keep-alive connection
    finally:
        c.config(retry_after="0")


def test_truncated_download(c):
    f = c.upload(chat_lines(3))
    c.config(truncate_rate=1.0)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=5)
        conn.request("GET", f"/v1/files/{f['id']}/content", headers=AUTH)
        resp = conn.getresponse()
        assert int(resp.getheader("Content-Length")) == f["bytes"]
        try:
            resp.read()
        except http.client.IncompleteRead as err:
            assert len(err.partial) == f["bytes"] // 2
        else:
            raise AssertionError("expected IncompleteRead")
        conn.close()
    finally:
        c.config(truncate_rate=0.0)


def test_reset_after_upload(c):
    before = c.stats()["uploads"]
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "reset_after"}])
    try:
        c.upload(chat_lines(2, prefix="lost"))
    except (ConnectionError, http.client.HTTPException):
        pass
    else:
        raise AssertionError("expected a connection error")
    stats = c.stats()
    assert stats["uploads"] == before + 1, stats["uploads"]
    assert stats["requests"][-1]["status"] is None
    assert stats["requests"][-1]["fault"] == "reset_after"
    files = c.json("GET", "/v1/files?purpose=batch")["data"]
    assert any(x["bytes"] > 0 for x in files)


def test_500_after_create(c):
    f = c.upload(chat_lines(1))
    before = c.stats()["batches_created"]
    c.config(faults=[{"method": "POST", "path": "/v1/batches", "kind": "500_after"}])
    status, _, _ = c.request("POST", "/v1/batches", {
        "input_file_id": f["id"], "endpoint": "/v1/chat/completions",
        "completion_window": "24h"})
    assert status == 500
    assert c.stats()["batches_created"] == before + 1


def test_advance_and_delete(c):
    f = c.upload(chat_lines(4))
    batch = c.create_batch(f["id"])
    done = c.json("POST", f"/_control/advance/{batch['id']}", {"status": "completed"},
                  auth=False)
    assert done["status"] == "completed" and done["request_counts"]["completed"] == 4
    c.json("POST", f"/_control/advance/{batch['id']}", {"status": "expired"}, 400, auth=False)
    deleted = c.json("DELETE", f"/v1/files/{f['id']}")
    assert deleted == {"id": f["id"], "object": "file", "deleted": True}
    c.json("GET", f"/v1/files/{f['id']}", expect=404)


def test_stats_counts(c):
    c.json("POST", "/_control/reset", auth=False)
    f = c.upload(chat_lines(3))
    batch = c.create_batch(f["id"])
    done, seen = c.run_to_end(batch["id"])
    c.content_lines(done["output_file_id"])
    c.json("GET", "/v1/batches")
    stats = c.stats()
    expect = {"uploads": 1, "batches_created": 1, "cancels": 0, "retrieves": len(seen),
              "downloads": 1, "list_calls": 1, "faults_injected": 0}
    assert {k: stats[k] for k in expect} == expect, stats
    first = stats["requests"][0]
    assert first["method"] == "POST" and first["path"] == "/v1/files"
    assert first["authorization"] == f"Bearer {KEY}" and first["status"] == 200
    assert first["host"] == f"127.0.0.1:{c.port}"
    assert all(r["path"].startswith("/v1") for r in stats["requests"])


def test_random_faults_reproducible(c):
    def run():
        c.json("POST", "/_control/reset", auth=False)
        c.config(fault_rate=0.5, fault_kinds=["429", "503"], seed=7)
        statuses = [c.request("GET", "/v1/files")[0] for _ in range(12)]
        c.config(fault_rate=0.0)
        return statuses

    first, second = run(), run()
    assert first == second and {429, 503} & set(first) and 200 in first, first


# ---- holds (hang_before, hang_after, stall, slow) and acted-vs-attempt counters


def raw_request(port, method, path, body=b"", ctype="application/json", send_body=None):
    """Sends one request on a fresh socket (all of `body`, or its first `send_body` bytes)
    and returns the socket, so the test decides when the client goes away."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {KEY}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body[:len(body) if send_body is None else send_body])
    return sock


def read_answer(sock):
    """(status, body) of the answer on a raw socket."""
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    return resp.status, resp.read()


def wait_for(cond, what, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def held(c, phase=None):
    items = c.json("GET", "/_control/held", auth=False)["held"]
    return [h for h in items if phase is None or h["phase"] == phase]


def upload_body(n, prefix):
    data = "".join(json.dumps(line) + "\n" for line in chat_lines(n, prefix)).encode()
    return multipart({"purpose": "batch"}, ("file", "input.jsonl", data))


def test_hang_before_release_then_acts(c):
    f = c.upload(chat_lines(1))
    before = c.stats()
    c.config(faults=[{"method": "POST", "path": "/v1/batches", "kind": "hang_before",
                      "seconds": 20}])
    body = json.dumps({"input_file_id": f["id"], "endpoint": "/v1/chat/completions",
                       "completion_window": "24h"}).encode()
    sock = raw_request(c.port, "POST", "/v1/batches", body)
    try:
        h = wait_for(lambda: held(c, "before_action"), "the held create")[0]
        assert h["method"] == "POST" and h["path"] == "/v1/batches", h
        assert h["kind"] == "hang_before", h
        stats = c.stats()
        assert stats["batches_created"] == before["batches_created"], "acted while held"
        assert stats["create_attempts"] == before["create_attempts"] + 1, stats
        assert stats["held"] and stats["held"][0]["id"] == h["id"]
        assert c.json("POST", "/_control/release", {"id": h["id"]}, auth=False)["released"] == 1
        status, data = read_answer(sock)
        assert status == 200 and json.loads(data)["status"] == "validating", (status, data)
    finally:
        sock.close()
    assert c.stats()["batches_created"] == before["batches_created"] + 1
    assert held(c) == []


def test_hang_before_client_gone_abandons(c):
    f = c.upload(chat_lines(1))
    before = c.stats()
    c.config(faults=[{"method": "POST", "path": "/v1/batches", "kind": "hang_before"}])
    body = json.dumps({"input_file_id": f["id"], "endpoint": "/v1/chat/completions",
                       "completion_window": "24h"}).encode()
    sock = raw_request(c.port, "POST", "/v1/batches", body)
    wait_for(lambda: held(c, "before_action"), "the held create")
    sock.close()  # the client dies while the create is in flight
    wait_for(lambda: not held(c), "the hold to end")
    stats = c.stats()
    assert stats["batches_created"] == before["batches_created"], "abandoned create acted"
    assert stats["create_attempts"] == before["create_attempts"] + 1
    assert stats["abandoned"] == before["abandoned"] + 1
    last = stats["requests"][-1]
    assert last["abandoned"] and not last["acted"] and last["status"] is None, last


def test_hang_after_acts_then_holds(c):
    before = c.stats()
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "hang_after"}])
    body, ctype = upload_body(2, "held")
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype)
    h = wait_for(lambda: held(c, "after_action"), "the held upload answer")[0]
    assert h["kind"] == "hang_after" and h["path"] == "/v1/files", h
    assert c.stats()["uploads"] == before["uploads"] + 1, "hang_after must act first"
    sock.close()  # the answer is lost
    wait_for(lambda: not held(c), "the hold to end")
    stats = c.stats()
    assert stats["uploads"] == before["uploads"] + 1 and stats["abandoned"] == before["abandoned"]
    last = stats["requests"][-1]
    assert last["acted"] and last["status"] is None, last
    # Released instead: the answer comes.
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "hang_after"}])
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype)
    try:
        wait_for(lambda: held(c, "after_action"), "the second held answer")
        assert c.json("POST", "/_control/release", {}, auth=False)["released"] == 1
        status, data = read_answer(sock)
        assert status == 200 and json.loads(data)["object"] == "file"
    finally:
        sock.close()


def test_stall_upload_client_gone(c):
    before = c.stats()
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "stall"}])
    body, ctype = upload_body(4, "stalled")
    # The whole body is sent: the server stops reading after half, and must still see the
    # client go although the rest of the body sits unread in its socket buffer.
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype)
    h = wait_for(lambda: held(c, "request_body"), "the stalled upload")[0]
    assert h["bytes_total"] == len(body) and h["bytes_done"] == len(body) // 2, h
    sock.close()
    wait_for(lambda: not held(c), "the hold to end")
    stats = c.stats()
    assert stats["uploads"] == before["uploads"], "an abandoned upload was stored"
    assert stats["upload_attempts"] == before["upload_attempts"] + 1
    assert stats["abandoned"] == before["abandoned"] + 1


def test_stall_upload_released_acts(c):
    before = c.stats()
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "stall"}])
    body, ctype = upload_body(3, "stall-ok")
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype)
    try:
        wait_for(lambda: held(c, "request_body"), "the stalled upload")
        c.json("POST", "/_control/release", {}, auth=False)
        status, data = read_answer(sock)
        assert status == 200 and json.loads(data)["bytes"] > 0, (status, data)
    finally:
        sock.close()
    assert c.stats()["uploads"] == before["uploads"] + 1


def test_truncated_request_body_abandoned(c):
    before = c.stats()
    body, ctype = upload_body(3, "cut")
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype, send_body=len(body) // 3)
    time.sleep(0.1)
    sock.close()  # died while sending the body
    wait_for(lambda: c.stats()["abandoned"] == before["abandoned"] + 1, "the abandon")
    assert c.stats()["uploads"] == before["uploads"]


def test_stall_download(c):
    c.json("POST", "/_control/reset", auth=False)
    f = c.upload(chat_lines(5))
    c.config(faults=[{"method": "GET", "path_suffix": "/content", "kind": "stall"}])
    c.json("GET", f"/v1/files/{f['id']}")  # not a /content path: no fault
    assert held(c) == [] and c.stats()["faults_injected"] == 0
    sock = raw_request(c.port, "GET", f"/v1/files/{f['id']}/content")
    try:
        h = wait_for(lambda: held(c, "response_body"), "the stalled download")[0]
        assert h["bytes_total"] == f["bytes"] and h["bytes_done"] == f["bytes"] // 2, h
        c.json("POST", "/_control/release", {"id": h["id"]}, auth=False)
        status, data = read_answer(sock)
        assert status == 200 and len(data) == f["bytes"], (status, len(data))
    finally:
        sock.close()
    # Killed while stalled: the hold ends at once.
    c.config(faults=[{"method": "GET", "path_prefix": "/v1/files/", "kind": "stall"}])
    sock = raw_request(c.port, "GET", f"/v1/files/{f['id']}/content")
    wait_for(lambda: held(c, "response_body"), "the second stalled download")
    sock.close()
    wait_for(lambda: not held(c), "the hold to end")


def test_slow_download_and_upload(c):
    f = c.upload(chat_lines(4))
    c.config(faults=[{"method": "GET", "path_prefix": "/v1/files/", "kind": "slow",
                      "rate": 2 * f["bytes"]}])
    started = time.monotonic()
    lines = c.content_lines(f["id"])
    took = time.monotonic() - started
    assert len(lines) == 4 and 0.3 < took < 3, took  # half a second at that rate
    body, ctype = upload_body(4, "slow-up")
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "slow",
                      "rate": 2 * len(body)}])
    sock = raw_request(c.port, "POST", "/v1/files", body, ctype)
    try:
        h = wait_for(lambda: held(c, "request_body"), "the slow upload")[0]
        assert h["kind"] == "slow" and 0 < h["bytes_done"] < len(body), h
        status, data = read_answer(sock)
        assert status == 200 and json.loads(data)["bytes"] > 0
    finally:
        sock.close()


def test_attempts_vs_acted(c):
    c.json("POST", "/_control/reset", auth=False)
    c.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "503"},
                     {"method": "POST", "path": "/v1/batches", "kind": "reset"},
                     {"method": "POST", "path": "/v1/batches", "kind": "reset_after"}])
    c.upload(chat_lines(1), expect=503)
    f = c.upload(chat_lines(1))
    for _ in range(2):
        try:
            c.create_batch(f["id"])
        except (ConnectionError, http.client.HTTPException):
            pass
        else:
            raise AssertionError("expected a connection error")
    c.create_batch(f["id"])
    stats = c.stats()
    got = {k: stats[k] for k in ("upload_attempts", "uploads", "create_attempts",
                                 "batches_created", "faults_injected")}
    assert got == {"upload_attempts": 2, "uploads": 1, "create_attempts": 3,
                   "batches_created": 2, "faults_injected": 3}, got
    acted = [r["acted"] for r in stats["requests"]]
    assert acted == [False, True, False, True, True], acted
    err = c.json("POST", "/_control/config", {"faults": [{"kind": "stall", "seconds": 0}]},
                 expect=400, auth=False)
    assert "seconds" in err["error"]["message"], err


def test_no_listing(c):
    """no_listing: a server with uploads and batches but without their listings."""
    c.json("POST", "/_control/reset", auth=False)
    c.config(no_listing=["files"])
    try:
        f = c.upload(chat_lines(1))
        err = c.json("GET", "/v1/files?purpose=batch", expect=404)["error"]
        assert "GET /v1/files" in err["message"], err
        c.json("GET", "/v1/batches")  # the other listing is still there
        assert c.json("GET", f"/v1/files/{f['id']}")["id"] == f["id"]  # and the file itself
        c.config(no_listing=["files", "batches"], no_listing_status=405)
        status, resp, _ = c.request("GET", "/v1/batches")
        assert status == 405 and resp.getheader("Allow") == "POST", status
        c.config(no_listing_status=501)
        assert c.request("GET", "/v1/files")[0] == 501
        assert c.stats()["list_calls"] == 1, c.stats()["list_calls"]
        for bad in ({"no_listing": ["models"]}, {"no_listing_status": 500}):
            c.json("POST", "/_control/config", bad, expect=400, auth=False)
    finally:
        c.config(no_listing=[], no_listing_status=404)
    c.json("GET", "/v1/files")


# ---- batch limits: requests and bytes per file, one model, the enqueued token queue


def prompt_tokens(line):
    """What the server counts for one line against enqueued_token_limit."""
    body = json.dumps(line["body"], separators=(",", ":"), ensure_ascii=False)
    return max(1, len(body.encode("utf-8")) // 4)


def model_lines(n, model, prefix, pad=0):
    lines = chat_lines(n, prefix)
    for line in lines:
        line["body"]["model"] = model
        line["body"]["messages"][0]["content"] += " " + "x" * pad
    return lines


def test_limit_config_validation(c):
    for key in ("max_requests_per_file", "max_bytes_per_file", "enqueued_token_limit"):
        for bad in (-1, True, 1.5, "10", None):
            err = c.json("POST", "/_control/config", {key: bad}, expect=400, auth=False)
            assert key in err["error"]["message"], err
    for bad in (0, "yes", None):
        c.json("POST", "/_control/config", {"one_model_per_batch": bad}, expect=400,
               auth=False)
    got = c.json("GET", "/_control/config", auth=False)
    expect = {"max_requests_per_file": 0, "max_bytes_per_file": 0,
              "one_model_per_batch": False, "enqueued_token_limit": 0}
    assert {k: got[k] for k in expect} == expect, got


def test_max_bytes_per_file(c):
    lines = chat_lines(3, "big")
    size = sum(len(json.dumps(x)) + 1 for x in lines)
    before = c.stats()
    c.config(max_bytes_per_file=size - 1)
    try:
        err = c.upload(lines, expect=400)["error"]
        assert err["type"] == "invalid_request_error" and err["param"] == "file", err
        assert str(size) in err["message"] and str(size - 1) in err["message"], err
        stats = c.stats()
        assert stats["uploads"] == before["uploads"], "a refused upload was stored"
        assert stats["upload_attempts"] == before["upload_attempts"] + 1
        assert not stats["requests"][-1]["acted"]
        c.config(max_bytes_per_file=size)  # exactly the limit is allowed
        assert c.upload(lines)["bytes"] == size
    finally:
        c.config(max_bytes_per_file=0)
    assert c.upload(chat_lines(50, "big"))["bytes"] > size


def test_max_requests_per_file(c):
    c.config(max_requests_per_file=3)
    try:
        f = c.upload(chat_lines(4))  # the upload itself is fine: the batch fails
        batch = c.create_batch(f["id"])
        assert batch["status"] == "validating", batch
        done, seen = c.run_to_end(batch["id"])
        assert seen == ["validating", "failed"] and done["failed_at"], seen
        assert done["errors"]["data"][0] == {
            "code": "too_many_requests", "line": None, "param": None,
            "message": "The batch input file has 4 requests; at most 3 are allowed per "
                       "batch."}, done["errors"]
        assert done["output_file_id"] is None and done["request_counts"]["total"] == 4
        done, _ = c.run_to_end(c.create_batch(c.upload(chat_lines(3))["id"])["id"])
        assert done["status"] == "completed", done
        # An inline batch is held to the same limit.
        data = "".join(json.dumps(x) + "\n" for x in chat_lines(5)).encode()
        inline = c.json("POST", "/v1/inline_batches?endpoint=/v1/chat/completions", data,
                        headers={"Content-Type": "application/jsonl"})
        done, _ = c.run_to_end(inline["id"])
        assert done["errors"]["data"][0]["code"] == "too_many_requests", done
    finally:
        c.config(max_requests_per_file=0)
    done, _ = c.run_to_end(c.create_batch(f["id"])["id"])
    assert done["status"] == "completed", done


def test_one_model_per_batch(c):
    lines = model_lines(2, "gpt-a", "mix") + model_lines(2, "gpt-b", "mix2")
    f = c.upload(lines)
    done, _ = c.run_to_end(c.create_batch(f["id"])["id"])
    assert done["status"] == "completed", "mixed models are fine by default"
    c.config(one_model_per_batch=True)
    try:
        done, seen = c.run_to_end(c.create_batch(f["id"])["id"])
        assert seen == ["validating", "failed"], seen
        err = done["errors"]["data"][0]
        assert err["code"] == "mixed_models" and err["line"] == 3, err
        assert "gpt-a" in err["message"] and "gpt-b" in err["message"], err
        same = c.upload(model_lines(3, "gpt-a", "one"))
        done, _ = c.run_to_end(c.create_batch(same["id"])["id"])
        assert done["status"] == "completed", done
    finally:
        c.config(one_model_per_batch=False)


def test_enqueued_token_limit(c):
    c.json("POST", "/_control/reset", auth=False)
    lines = model_lines(3, "gpt-q", "q", pad=1000)
    tokens = sum(prompt_tokens(x) for x in lines)
    limit = 3 * tokens - 1  # room for two of these batches, not three
    f = c.upload(lines)
    other_lines = model_lines(3, "gpt-other", "o", pad=1000)
    other = c.upload(other_lines)
    c.config(enqueued_token_limit=limit)
    try:
        a, b, d = (c.create_batch(f["id"])["id"] for _ in range(3))
        # All three validating at once: those do not count against each other.
        for batch_id in (a, b, d):
            assert c.json("GET", f"/v1/batches/{batch_id}")["status"] == "validating"
        assert c.json("GET", f"/v1/batches/{a}")["status"] == "in_progress"
        assert c.json("GET", f"/v1/batches/{b}")["status"] == "in_progress"
        failed = c.json("GET", f"/v1/batches/{d}")
        assert failed["status"] == "failed" and failed["failed_at"], failed
        assert failed["output_file_id"] is None
        assert failed["errors"] == {"object": "list", "data": [{
            "code": "token_limit_exceeded", "line": None, "param": None,
            "message": f"Enqueued token limit reached for gpt-q in organization org-fake. "
                       f"Limit: {limit:,} enqueued tokens. Please try submitting your batch "
                       "again later."}]}, failed["errors"]
        assert "," in f"{limit:,}", limit  # the test covers the separators
        # Another model has its own queue.
        e = c.create_batch(other["id"])["id"]
        assert c.run_to_end(e)[0]["status"] == "completed"
        # A cancelling batch still counts; a batch cancelled while validating does not.
        c.json("POST", f"/v1/batches/{a}/cancel")
        g = c.create_batch(f["id"])["id"]
        c.json("POST", f"/v1/batches/{g}/cancel")
        h = c.create_batch(f["id"])["id"]
        assert c.run_to_end(h)[1] == ["validating", "failed"]  # a, b and h: too many
        assert c.run_to_end(a)[0]["status"] == "cancelled"
        # a is done: room again, though g (never admitted) is still cancelling.
        assert c.json("GET", f"/v1/batches/{g}")["status"] == "cancelling"
        i = c.create_batch(f["id"])["id"]
        assert c.run_to_end(i)[1] == ["validating", "in_progress", "finalizing", "completed"]
        assert c.run_to_end(g)[1] == ["cancelled"]
        # A batch bigger than the whole limit fails with nothing else queued.
        c.run_to_end(b)
        c.config(enqueued_token_limit=tokens - 1)
        assert c.run_to_end(c.create_batch(f["id"])["id"])[0]["status"] == "failed"
        stats = c.stats()
        assert stats["token_limit_failures"] == 3, stats["token_limit_failures"]
        peaks = {"gpt-q": 2 * tokens, "gpt-other": sum(prompt_tokens(x) for x in other_lines)}
        assert stats["enqueued_tokens_peak"] == peaks, stats["enqueued_tokens_peak"]
        assert stats["enqueued_over_limit"] == 0
    finally:
        c.config(enqueued_token_limit=0)
    # No limit: any number run at once, and the peak still shows it.
    ids = [c.create_batch(f["id"])["id"] for _ in range(3)]
    for batch_id in ids * 2:
        c.json("GET", f"/v1/batches/{batch_id}")
    stats = c.stats()
    assert stats["enqueued_tokens_peak"]["gpt-q"] == 3 * tokens, stats["enqueued_tokens_peak"]
    assert stats["enqueued_over_limit"] == 0 and stats["token_limit_failures"] == 3
    c.json("POST", "/_control/reset", auth=False)
    stats = c.stats()
    assert (stats["token_limit_failures"], stats["enqueued_tokens_peak"],
            stats["enqueued_over_limit"], stats["batches"]) == (0, {}, 0, []), stats


def test_stats_batches(c):
    c.json("POST", "/_control/reset", auth=False)
    lines = chat_lines(3)
    lines[0]["body"]["messages"][0]["content"] = "h\u00e9llo \u2603"  # tokens count UTF-8 bytes
    f = c.upload(lines)
    first = c.create_batch(f["id"], metadata={"job": "j1", "part": "1"})
    c.json("GET", f"/v1/batches/{first['id']}")
    data = "".join(json.dumps(x) + "\n" for x in chat_lines(2, "inl")).encode()
    second = c.json("POST", "/v1/inline_batches?endpoint=/v1/chat/completions", data,
                    headers={"Content-Type": "application/jsonl"})
    got = c.stats()["batches"]
    assert got == [
        {"id": first["id"], "status": "validating", "metadata": {"job": "j1", "part": "1"},
         "requests": 3, "tokens": sum(prompt_tokens(x) for x in lines), "model": "gpt-test",
         "input_file_id": f["id"], "created_seq": 1},
        {"id": second["id"], "status": "validating", "metadata": None, "requests": 2,
         "tokens": sum(prompt_tokens(x) for x in chat_lines(2, "inl")), "model": "gpt-test",
         "input_file_id": second["input_file_id"], "created_seq": 2}], got
    c.json("GET", f"/v1/batches/{first['id']}")
    assert c.stats()["batches"][0]["status"] == "in_progress"


# ---- secrets and transport: redirects, a server that echoes the key, TLS


def test_redirect_faults(c):
    c.config(redirect_location="http://127.0.0.1:9/elsewhere?x=1",
             faults=[{"method": "POST", "path": "/v1/files", "kind": "307"},
                     {"method": "GET", "path": "/v1/batches", "kind": "302"}])
    try:
        status, resp, data = c.request("POST", "/v1/files", b"{}",
                                       headers={"Content-Type": "application/json"})
        assert status == 307 and data == b"", (status, data)
        assert resp.getheader("Location") == "http://127.0.0.1:9/elsewhere?x=1"
        c.config(redirect_location=None)
        status, resp, _ = c.request("GET", "/v1/batches?limit=2")
        assert status == 302 and resp.getheader("Location") == "/v1/batches?limit=2", status
        assert c.request("GET", "/v1/batches")[0] == 200  # one-shot
        assert c.stats()["requests"][-2]["fault"] == "302"
    finally:
        c.config(redirect_location=None)


def test_echo_auth_fault(c):
    c.config(faults=[{"method": "GET", "path": "/v1/batches", "kind": "echo_auth"}])
    status, _, data = c.request("GET", "/v1/batches")
    err = json.loads(data)["error"]
    assert status == 500 and f"Bearer {KEY}" in err["message"], (status, err)
    # Only an authorized request gets that far: a wrong key is never echoed.
    c.config(faults=[{"method": "GET", "path": "/v1/batches", "kind": "echo_auth"}])
    status, _, data = c.request("GET", "/v1/batches", auth=False,
                                headers={"Authorization": "Bearer wrong-secret"})
    assert status == 401 and b"wrong-secret" not in data


def test_tls(c):
    """--tls-cert/--tls-key: https with that certificate; a client that refuses it is
    counted in tls_handshake_failures and no request is logged."""
    import shutil
    import ssl
    if not shutil.which("openssl"):
        print("skip test_tls: the openssl command is missing")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=30)
        port_file = os.path.join(tmp, "port")
        proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file",
                                 port_file, "--api-key", KEY, "--max-lifetime", "60",
                                 "--tls-cert", cert, "--tls-key", key],
                                stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(port_file):
                assert proc.poll() is None and time.monotonic() < deadline, "no TLS server"
                time.sleep(0.02)
            with open(port_file) as f:
                port = int(f.read())
            # A client that does not trust the certificate: no request gets through.
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                                   context=ssl.create_default_context())
                conn.request("GET", "/v1/batches", headers=AUTH)
                conn.getresponse()
            except ssl.SSLError:
                pass
            else:
                raise AssertionError("an untrusted certificate was accepted")
            trusted = ssl.create_default_context(cafile=cert)
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=trusted)
            conn.request("GET", "/v1/batches", headers=AUTH)
            resp = conn.getresponse()
            assert resp.status == 200 and json.loads(resp.read())["object"] == "list"
            conn.request("GET", "/_control/stats")
            stats = json.loads(conn.getresponse().read())
            conn.close()
            assert stats["tls_handshake_failures"] == 1, stats["tls_handshake_failures"]
            assert [r["path"] for r in stats["requests"]] == ["/v1/batches"], stats["requests"]
        finally:
            proc.terminate()
            proc.wait(5)


# ---- direct mode: the normal endpoints, their limits, latency and stats


GO_DURATION = r"0s|\d+ms|(\d+h)?(\d+m)?\d+(\.\d{1,3})?s"


def go_seconds(text):
    """Seconds in a Go duration as the server writes them ("1m30.5s", "120ms")."""
    import re
    assert re.fullmatch(GO_DURATION, text), text
    if text.endswith("ms"):
        return int(text[:-2]) / 1000
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)([hms])", text):
        total += float(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def chat_body(text, **extra):
    return dict({"model": "gpt-test", "messages": [{"role": "system", "content": "be brief"},
                                                   {"role": "user", "content": text}]}, **extra)


def direct(c, path, body, headers=None):
    """(status, response, parsed body) of one direct request."""
    status, resp, data = c.request("POST", path, body, headers)
    return status, resp, json.loads(data)


def ratelimit_headers(resp):
    return {k.lower(): v for k, v in resp.getheaders() if k.lower().startswith("x-ratelimit-")}


def test_go_duration(c):
    sys.path.insert(0, HERE)
    import fake_batch_server as fake
    cases = {0: "0s", 0.0004: "1ms", 0.12: "120ms", 0.1: "100ms", 1: "1s", 1.5: "1.5s",
             59.9951: "59.996s", 90.5: "1m30.5s", 360: "6m0s", 3600: "1h0m0s",
             3723.25: "1h2m3.25s"}
    got = {k: fake.go_duration(k) for k in cases}
    assert got == cases, got


def test_direct_echo(c):
    c.json("POST", "/_control/reset", auth=False)
    status, resp, chat = direct(c, "/v1/chat/completions", chat_body("hello one", max_tokens=7))
    assert status == 200 and chat["object"] == "chat.completion", (status, chat)
    assert chat["id"].startswith("chatcmpl-") and isinstance(chat["created"], int)
    assert chat["model"] == "gpt-test" and chat["choices"][0]["finish_reason"] == "stop"
    assert chat["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello one"}
    usage = chat["usage"]
    assert usage["prompt_tokens"] == prompt_tokens({"body": chat_body("hello one", max_tokens=7)})
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], usage
    assert resp.getheader("x-request-id").startswith("req_"), resp.getheaders()
    assert ratelimit_headers(resp) == {}, "no limit set: no x-ratelimit headers"
    parts = {"model": "gpt-test", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "part a, "}, {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "part b"}]}]}
    got = direct(c, "/v1/chat/completions", parts)[2]["choices"][0]["message"]["content"]
    assert got == "echo: part a, part b", got

    import hashlib
    emb = direct(c, "/v1/embeddings", {"model": "emb", "input": ["alpha", "beta"]})[2]
    assert emb["object"] == "list" and emb["model"] == "emb" and len(emb["data"]) == 2, emb
    for i, word in enumerate(["alpha", "beta"]):
        want = [round(b / 255, 4) for b in hashlib.sha256(word.encode()).digest()[:4]]
        assert emb["data"][i] == {"object": "embedding", "index": i, "embedding": want}, emb
    assert emb["usage"]["prompt_tokens"] == emb["usage"]["total_tokens"] > 0
    one = direct(c, "/v1/embeddings", {"model": "emb", "input": "alpha"})[2]
    assert one["data"][0]["embedding"] == emb["data"][0]["embedding"], "not deterministic"

    comp = direct(c, "/v1/completions", {"model": "m", "prompt": "say this"})[2]
    assert comp["object"] == "text_completion" and comp["id"].startswith("cmpl-"), comp
    assert comp["choices"] == [{"text": "echo: say this", "index": 0, "logprobs": None,
                                "finish_reason": "stop"}], comp
    assert set(comp["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}

    for given, text in (("plain input", "plain input"),
                        ([{"role": "user", "content": "first"},
                          {"role": "user", "content": [{"type": "input_text", "text": "last"}]}],
                         "last")):
        r = direct(c, "/v1/responses", {"model": "m", "input": given})[2]
        assert r["object"] == "response" and r["status"] == "completed", r
        assert r["id"].startswith("resp_") and r["model"] == "m"
        out = r["output"][0]
        assert out["type"] == "message" and out["role"] == "assistant", out
        assert out["content"][0]["type"] == "output_text", out
        assert out["content"][0]["text"] == "echo: " + text, out
        assert set(r["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}

    mod = direct(c, "/v1/moderations", {"model": "omni", "input": ["a", "b"]})[2]
    assert mod["id"].startswith("modr-") and mod["model"] == "omni", mod
    assert mod["results"] == [{"flagged": False, "categories": {}, "category_scores": {}}] * 2

    # Not a JSON object: 400 in OpenAI's error shape, still a direct answer.
    for bad in (b"[1, 2]", b"{not json"):
        status, resp, err = direct(c, "/v1/chat/completions", bad,
                                   {"Content-Type": "application/json"})
        assert status == 400 and set(err["error"]) == {"message", "type", "param", "code"}
        assert err["error"]["type"] == "invalid_request_error", err
        assert resp.getheader("x-request-id").startswith("req_")
    # Neither counts: a GET on a direct path, nor a request with the wrong key.
    assert c.request("GET", "/v1/chat/completions")[0] == 404
    assert c.request("POST", "/v1/embeddings", {"input": "x"}, auth=False)[0] == 401

    stats = c.stats()
    assert stats["direct_requests"] == 10, stats["direct_requests"]
    assert stats["direct_statuses"] == {"200": 8, "400": 2}, stats["direct_statuses"]
    log = stats["direct_log"]
    assert [e["path"] for e in log[:3]] == ["/v1/chat/completions"] * 2 + ["/v1/embeddings"]
    first = log[0]
    assert first["status"] == 200 and first["text"] == "hello one" and first["fault"] is None
    # Tokens as counted for the limits: the prompt estimate plus max_tokens.
    assert first["tokens"] == usage["prompt_tokens"] + 7, (first, usage)
    assert log[2]["text"] == "alpha\nbeta" and log[-1]["tokens"] is None, log
    assert all(a["t"] <= b["t"] for a, b in zip(log, log[1:])) and log[0]["t"] >= 0
    assert stats["direct_max_window"] == 8, stats["direct_max_window"]
    assert stats["direct_max_window_tokens"] == sum(e["tokens"] for e in log
                                                    if e["status"] == 200)
    assert stats["direct_429s"] == 0 and stats["direct_in_flight_peak"] == 1
    long_text = "y" * 500
    direct(c, "/v1/completions", {"model": "m", "prompt": long_text})
    assert c.stats()["direct_log"][-1]["text"] == "y" * 200
    c.json("POST", "/_control/reset", auth=False)
    stats = c.stats()
    got = {k: v for k, v in stats.items() if k.startswith("direct_")}
    assert got == {"direct_requests": 0, "direct_statuses": {}, "direct_429s": 0,
                   "direct_in_flight_peak": 0, "direct_log": [], "direct_max_window": 0,
                   "direct_max_window_tokens": 0}, got


def test_direct_markers(c):
    c.json("POST", "/_control/reset", auth=False)
    status, resp, err = direct(c, "/v1/chat/completions", chat_body("please FAIL400 now"))
    assert status == 400 and err["error"]["type"] == "invalid_request_error", (status, err)
    assert resp.getheader("x-request-id").startswith("req_")
    for _ in range(2):  # every time: a client's retries all fail
        status, _, err = direct(c, "/v1/embeddings", {"model": "e", "input": ["ok", "FAIL500"]})
        assert status == 500 and err["error"]["type"] == "server_error", (status, err)
    assert direct(c, "/v1/responses", {"model": "m", "input": "FAIL500"})[0] == 500
    assert direct(c, "/v1/chat/completions", chat_body("fine"))[0] == 200
    assert c.stats()["direct_statuses"] == {"400": 1, "500": 3, "200": 1}


def test_direct_latency(c):
    c.config(direct_latency_ms=150)
    try:
        started = time.monotonic()
        assert direct(c, "/v1/chat/completions", chat_body("slow"))[0] == 200
        took = time.monotonic() - started
        # Upper bounds are loose: a loaded CI machine (sanitizers, two jobs)
        # stretches any request; the lower bounds are what shows the latency.
        assert 0.15 <= took < 3.0, took
        c.config(direct_latency_ms=50, direct_jitter_ms=100, seed=3)
        took = []
        for _ in range(4):
            started = time.monotonic()
            direct(c, "/v1/embeddings", {"input": "x"})
            took.append(time.monotonic() - started)
        assert all(0.05 <= t < 3.0 for t in took), took
        assert max(took) - min(took) > 0.005, f"no jitter: {took}"
        # A rate-limit 429 is answered at once, without the latency.
        c.json("POST", "/_control/reset", auth=False)
        c.config(direct_latency_ms=0, direct_jitter_ms=0, direct_rpm=60, rate_burst_seconds=0.5)
        assert direct(c, "/v1/embeddings", {"input": "x"})[0] == 200  # the bucket holds 1
        c.config(direct_latency_ms=2000)
        started = time.monotonic()
        assert direct(c, "/v1/embeddings", {"input": "x"})[0] == 429
        assert time.monotonic() - started < 1.0
    finally:
        c.config(direct_latency_ms=0, direct_jitter_ms=0, direct_rpm=0, rate_burst_seconds=2,
                 seed=1)


def test_direct_rpm(c):
    c.json("POST", "/_control/reset", auth=False)
    # Bucket of 120 / 60 * 1 = 2 requests, refilled at 2 a second.
    c.config(direct_rpm=120, rate_burst_seconds=1)
    try:
        for remaining in ("1", "0"):
            status, resp, _ = direct(c, "/v1/chat/completions", chat_body("r"))
            assert status == 200, status
            got = ratelimit_headers(resp)
            assert set(got) == {"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                                "x-ratelimit-reset-requests"}, got
            assert got["x-ratelimit-limit-requests"] == "120"
            assert got["x-ratelimit-remaining-requests"] == remaining, got
        status, resp, err = direct(c, "/v1/chat/completions", chat_body("r"))
        assert status == 429, status
        assert err["error"]["type"] == "requests", err
        assert err["error"]["code"] == "rate_limit_exceeded" and err["error"]["param"] is None
        assert err["error"]["message"].startswith("Rate limit reached for requests"), err
        wait_ms = int(resp.getheader("retry-after-ms"))
        assert 1 <= wait_ms <= 500 and resp.getheader("retry-after") == "1", wait_ms
        # Full reset: the bucket refilled and the 60 s window empty again.
        reset = go_seconds(ratelimit_headers(resp)["x-ratelimit-reset-requests"])
        assert 55 < reset <= 60, reset
        assert resp.getheader("x-request-id").startswith("req_")
        time.sleep(wait_ms / 1000)
        assert direct(c, "/v1/chat/completions", chat_body("r"))[0] == 200
        stats = c.stats()
        assert stats["direct_429s"] == 1 and stats["direct_statuses"] == {"200": 3, "429": 1}
        assert stats["direct_max_window"] == 3, "a 429 counts against nothing"
        # The 60 s window: 2 a minute with a bucket as big as the window (2, refilled
        # every 30 s): the third waits for the first to leave the window, not the bucket.
        c.json("POST", "/_control/reset", auth=False)
        c.config(direct_rpm=2, rate_burst_seconds=60)
        assert [direct(c, "/v1/embeddings", {"input": "w"})[0] for _ in range(2)] == [200, 200]
        status, resp, err = direct(c, "/v1/embeddings", {"input": "w"})
        assert status == 429 and err["error"]["type"] == "requests", (status, err)
        assert 55000 < int(resp.getheader("retry-after-ms")) <= 60000, resp.getheaders()
        assert resp.getheader("retry-after") == "60", resp.getheader("retry-after")
    finally:
        c.config(direct_rpm=0, rate_burst_seconds=2)


def test_direct_tpm(c):
    c.json("POST", "/_control/reset", auth=False)
    body = chat_body("tokens please", max_completion_tokens=40)
    tokens = prompt_tokens({"body": body}) + 40
    assert 40 < tokens < 100, tokens
    # Bucket of 6000 / 60 * 1 = 100 tokens, refilled at 100 a second.
    c.config(direct_tpm=6000, rate_burst_seconds=1)
    try:
        status, resp, _ = direct(c, "/v1/chat/completions", body)
        assert status == 200, status
        got = ratelimit_headers(resp)
        assert got["x-ratelimit-limit-tokens"] == "6000", got
        assert got["x-ratelimit-remaining-tokens"] == str(100 - tokens), got
        assert "x-ratelimit-limit-requests" not in got, "only the limits configured"
        assert 0 < go_seconds(got["x-ratelimit-reset-tokens"]) <= 60, got
        status, resp, err = direct(c, "/v1/chat/completions", body)
        assert status == 429 and err["error"]["type"] == "tokens", (status, err)
        assert err["error"]["message"].startswith("Rate limit reached for tokens"), err
        wait_ms = int(resp.getheader("retry-after-ms"))
        expect_ms = (tokens - (100 - tokens)) * 10  # the missing tokens at 100 a second
        assert 1 <= wait_ms <= expect_ms and wait_ms > expect_ms - 100, (wait_ms, expect_ms)
        assert resp.getheader("retry-after") == "1"
        time.sleep(wait_ms / 1000)
        assert direct(c, "/v1/chat/completions", body)[0] == 200
        assert c.stats()["direct_log"][0]["tokens"] == tokens
        # The 60 s window: 2.5 requests' worth a minute, a bucket as big as the window.
        c.json("POST", "/_control/reset", auth=False)
        c.config(direct_tpm=tokens * 5 // 2, rate_burst_seconds=60)
        assert [direct(c, "/v1/chat/completions", body)[0] for _ in range(2)] == [200, 200]
        status, resp, err = direct(c, "/v1/chat/completions", body)
        assert status == 429 and err["error"]["type"] == "tokens", (status, err)
        assert 55000 < int(resp.getheader("retry-after-ms")) <= 60000
        stats = c.stats()
        assert stats["direct_max_window_tokens"] == 2 * tokens, stats
        # More than the whole limit: never admitted.
        c.config(direct_tpm=tokens - 1)
        status, resp, err = direct(c, "/v1/chat/completions", body)
        assert status == 429 and err["error"]["message"].startswith("Request too large"), err
        assert resp.getheader("retry-after") == "60"
        # Both limits: the one that binds names the 429.
        c.json("POST", "/_control/reset", auth=False)
        c.config(direct_tpm=6000, direct_rpm=6000, rate_burst_seconds=1)
        direct(c, "/v1/chat/completions", body)
        status, resp, err = direct(c, "/v1/chat/completions", body)
        assert status == 429 and err["error"]["type"] == "tokens", err
        assert len(ratelimit_headers(resp)) == 6, resp.getheaders()
    finally:
        c.config(direct_tpm=0, direct_rpm=0, rate_burst_seconds=2)


def test_direct_headers_off(c):
    c.json("POST", "/_control/reset", auth=False)
    c.config(direct_rpm=60, direct_tpm=100000, rate_burst_seconds=1, direct_headers=False)
    try:
        status, resp, _ = direct(c, "/v1/chat/completions", chat_body("h"))
        assert status == 200 and ratelimit_headers(resp) == {}, resp.getheaders()
        status, resp, _ = direct(c, "/v1/chat/completions", chat_body("h"))
        assert status == 429 and ratelimit_headers(resp) == {}, resp.getheaders()
        assert resp.getheader("retry-after-ms") and resp.getheader("retry-after") == "1"
        assert resp.getheader("x-request-id").startswith("req_")
    finally:
        c.config(direct_rpm=0, direct_tpm=0, rate_burst_seconds=2, direct_headers=True)


def test_no_batch_api(c):
    c.config(no_batch_api=True)
    try:
        assert c.upload(chat_lines(1), expect=404)["error"]["message"].startswith("Invalid URL")
        for method, path in (("GET", "/v1/files"), ("GET", "/v1/files/file-x/content"),
                             ("GET", "/v1/batches"), ("GET", "/v1/batches/batch_x"),
                             ("POST", "/v1/batches"), ("POST", "/v1/batches/batch_x/cancel"),
                             ("POST", "/v1/inline_batches?endpoint=/v1/chat/completions")):
            status, _, data = c.request(method, path, b"{}")
            assert status == 404, (method, path, status)
            assert set(json.loads(data)["error"]) == {"message", "type", "param", "code"}
        assert direct(c, "/v1/chat/completions", chat_body("still here"))[0] == 200
    finally:
        c.config(no_batch_api=False)
    assert c.request("GET", "/v1/batches")[0] == 200


def test_direct_in_flight_peak(c):
    """256 keep-alive clients at once (the listen backlog must take them), 2 requests each."""
    import threading
    c.json("POST", "/_control/reset", auth=False)
    c.config(direct_latency_ms=400)
    clients, statuses = 256, []
    barrier = threading.Barrier(clients)
    lock = threading.Lock()

    def run(i):
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
        try:
            conn.connect()
            barrier.wait(10)
            for j in range(2):
                conn.request("POST", "/v1/chat/completions",
                             json.dumps(chat_body(f"c{i}-{j}")), AUTH)
                resp = conn.getresponse()
                answer = json.loads(resp.read())
                ok = answer["choices"][0]["message"]["content"] == f"echo: c{i}-{j}"
                with lock:
                    statuses.append(resp.status if ok else "mismatch")
        except Exception as err:  # a count in the assertion says more than 256 tracebacks
            with lock:
                statuses.append(type(err).__name__)
        finally:
            conn.close()

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        took = time.monotonic() - started
    finally:
        c.config(direct_latency_ms=0)
    assert statuses == [200] * (2 * clients), {s: statuses.count(s) for s in set(statuses)}
    stats = c.stats()
    assert stats["direct_requests"] == 2 * clients
    # All 256 overlap unless this machine is badly loaded; 2 x 0.4 s in sequence.
    assert stats["direct_in_flight_peak"] >= clients // 2, stats["direct_in_flight_peak"]
    assert stats["direct_in_flight_peak"] <= clients
    assert took < 5, f"256 clients took {took:.1f} s: connections queued?"
    print(f"     in flight peak {stats['direct_in_flight_peak']}, {took:.2f} s")


def test_direct_faults(c):
    c.json("POST", "/_control/reset", auth=False)
    c.config(faults=[{"method": "POST", "path": "/v1/chat/completions", "kind": "reset"}])
    try:
        c.request("POST", "/v1/chat/completions", chat_body("lost"))
    except (ConnectionError, http.client.HTTPException):
        pass
    else:
        raise AssertionError("expected a connection error")
    assert direct(c, "/v1/chat/completions", chat_body("again"))[0] == 200  # one-shot
    c.config(faults=[{"method": "POST", "path_prefix": "/v1/embeddings", "kind": "429"}],
             retry_after="2")
    try:
        status, resp, err = direct(c, "/v1/embeddings", {"input": "f"})
        assert status == 429 and resp.getheader("Retry-After") == "2", status
        assert resp.getheader("x-request-id").startswith("req_")
    finally:
        c.config(retry_after="0")
    c.config(faults=[{"path": "/v1/responses", "kind": "500_after"}], direct_rpm=60,
             rate_burst_seconds=1)
    try:
        assert direct(c, "/v1/responses", {"input": "acted"})[0] == 500
        # The 500_after request was admitted (acted on), so the bucket of 1 is empty.
        status, resp, _ = direct(c, "/v1/responses", {"input": "next"})
        assert status == 429 and ratelimit_headers(resp)["x-ratelimit-limit-requests"] == "60"
    finally:
        c.config(direct_rpm=0, rate_burst_seconds=2)
    c.config(fault_rate=1.0, fault_kinds=["503"])
    try:
        assert direct(c, "/v1/moderations", {"input": "x"})[0] == 503
    finally:
        c.config(fault_rate=0.0, fault_kinds=["429", "500", "503", "reset"])
    stats = c.stats()
    log = [(e["path"], e["status"], e["fault"]) for e in stats["direct_log"]]
    assert log == [("/v1/chat/completions", None, "reset"), ("/v1/chat/completions", 200, None),
                   ("/v1/embeddings", 429, "429"), ("/v1/responses", 500, "500_after"),
                   ("/v1/responses", 429, None), ("/v1/moderations", 503, "503")], log
    assert stats["direct_log"][0]["text"] == "lost", "a reset request still shows its text"
    assert stats["direct_429s"] == 1, "only the limit's 429, not the injected one"
    assert stats["direct_statuses"] == {"200": 1, "429": 2, "500": 1, "503": 1}
    assert stats["direct_requests"] == 6 and stats["faults_injected"] == 4


def test_direct_config_validation(c):
    bad = {"direct_latency_ms": (-1, "5", True, None), "direct_jitter_ms": (-0.5, [1]),
           "direct_rpm": (-1, 1.5, True, "60"), "direct_tpm": (-1, 2.5, None),
           "rate_burst_seconds": (0, -1, "2", True), "direct_headers": (1, "no", None),
           "no_batch_api": (0, "yes")}
    for key, values in bad.items():
        for value in values:
            err = c.json("POST", "/_control/config", {key: value}, expect=400, auth=False)
            assert key in err["error"]["message"], (key, value, err)
    got = c.json("GET", "/_control/config", auth=False)
    expect = {"direct_latency_ms": 0, "direct_jitter_ms": 0, "direct_rpm": 0, "direct_tpm": 0,
              "rate_burst_seconds": 2, "direct_headers": True, "no_batch_api": False}
    assert {k: got[k] for k in expect} == expect, got
    assert c.config(rate_burst_seconds=0.25, direct_latency_ms=1.5)["rate_burst_seconds"] == 0.25
    c.config(rate_burst_seconds=2, direct_latency_ms=0)


# ---- Anthropic's Message Batches and hosts with their own auth

ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


def messages_requests(n, prefix="req"):
    return [{"custom_id": f"{prefix}-{i}",
             "params": {"model": "claude-test", "max_tokens": 16,
                        "messages": [{"role": "user", "content": f"hi {i}"}]}}
            for i in range(1, n + 1)]


def anthropic(c, method, path, body=None, expect=200, headers=None):
    return c.json(method, path, body, expect, auth=False, headers=dict(ANTHROPIC, **(headers or {})))


def test_anthropic_headers(c):
    path = "/v1/messages/batches"
    for headers, status in (({}, 401), ({"x-api-key": "wrong"}, 401),
                            ({"x-api-key": KEY}, 400),
                            (dict(ANTHROPIC, Authorization=f"Bearer {KEY}"), 401)):
        got, _, data = c.request("GET", path, auth=False, headers=headers)
        err = json.loads(data)
        assert got == status and err["type"] == "error", (headers, got, err)
        assert set(err["error"]) == {"type", "message"}, err
    # The OpenAI way is refused on Anthropic's paths, and the other way round.
    got, _, _ = c.request("GET", path)
    assert got == 401
    got, _, _ = c.request("GET", "/v1/batches", auth=False, headers=ANTHROPIC)
    assert got == 401


def test_anthropic_validation(c):
    before = c.stats()["batches_created"]
    good = messages_requests(2)
    for change, words in (
            (lambda r: r[0].update(custom_id="has space"), "requests.0.custom_id"),
            (lambda r: r[1].update(custom_id="x" * 65), "requests.1.custom_id"),
            (lambda r: r[1].update(custom_id=r[0]["custom_id"]), "duplicate"),
            (lambda r: r[0]["params"].pop("max_tokens"), "max_tokens"),
            (lambda r: r[0]["params"].update(messages=[]), "messages")):
        requests = json.loads(json.dumps(good))
        change(requests)
        err = anthropic(c, "POST", "/v1/messages/batches", {"requests": requests}, expect=400)
        assert err["error"]["type"] == "invalid_request_error" and words in err["error"]["message"], err
    assert c.stats()["batches_created"] == before


def test_anthropic_lifecycle(c):
    c.config(fail_custom_ids=["req-2"])
    try:
        batch = anthropic(c, "POST", "/v1/messages/batches", {"requests": messages_requests(4)})
        assert batch["id"].startswith("msgbatch_") and batch["type"] == "message_batch"
        assert batch["processing_status"] == "in_progress" and batch["results_url"] is None
        assert batch["request_counts"] == {"processing": 4, "succeeded": 0, "errored": 0,
                                           "canceled": 0, "expired": 0}
        assert batch["created_at"].endswith("Z") and "." in batch["created_at"]
        seen = []
        for _ in range(10):
            batch = anthropic(c, "GET", f"/v1/messages/batches/{batch['id']}")
            seen.append(batch["processing_status"])
            if batch["processing_status"] == "ended":
                break
        assert seen[-1] == "ended" and set(seen[:-1]) == {"in_progress"}, seen
        assert batch["request_counts"]["succeeded"] == 3 and batch["request_counts"]["errored"] == 1
        assert batch["ended_at"] and batch["results_url"].endswith(f"/{batch['id']}/results")
        status, resp, data = c.request("GET", batch["results_url"].split("//", 1)[1].split("/", 1)[1]
                                       .join(["/", ""]), auth=False, headers=ANTHROPIC)
        assert status == 200, data
        lines = [json.loads(line) for line in data.decode().splitlines()]
        by_id = {line["custom_id"]: line["result"] for line in lines}
        assert by_id["req-2"]["type"] == "errored" and by_id["req-1"]["type"] == "succeeded"
        assert by_id["req-1"]["message"]["content"][0]["text"] == "echo: req-1"
        listed = anthropic(c, "GET", "/v1/messages/batches?limit=1")
        assert listed["data"][0]["id"] == batch["id"] and "has_more" in listed
        assert all(b["id"].startswith("msgbatch_") for b in listed["data"])
    finally:
        c.config(fail_custom_ids=[])


def test_anthropic_cancel_and_expire(c):
    c.config(steps=3)
    try:
        batch = anthropic(c, "POST", "/v1/messages/batches", {"requests": messages_requests(4)})
        cancelled = anthropic(c, "POST", f"/v1/messages/batches/{batch['id']}/cancel")
        assert cancelled["processing_status"] == "canceling" and cancelled["cancel_initiated_at"]
        c.json("POST", f"/_control/advance/{batch['id']}", {"status": "cancelled"}, auth=False)
        ended = anthropic(c, "GET", f"/v1/messages/batches/{batch['id']}")
        assert ended["processing_status"] == "ended"
        assert ended["request_counts"]["canceled"] == 2 and ended["request_counts"]["succeeded"] == 2
        other = anthropic(c, "POST", "/v1/messages/batches", {"requests": messages_requests(2)})
        c.json("POST", f"/_control/advance/{other['id']}", {"status": "expired"}, auth=False)
        got = anthropic(c, "GET", f"/v1/messages/batches/{other['id']}")
        assert got["request_counts"]["expired"] == 1 and got["cancel_initiated_at"] is None
    finally:
        c.config(steps=1)


def test_own_auth_header_and_query(c):
    c.config(auth_header="api-key", required_query={"api-version": "2024-10-21"})
    try:
        got, _, _ = c.request("GET", "/v1/batches?api-version=2024-10-21")  # Bearer: refused
        assert got == 401
        got, _, _ = c.request("GET", "/v1/batches", auth=False, headers={"api-key": KEY})
        assert got == 404
        c.json("GET", "/v1/batches?api-version=2024-10-21", auth=False, headers={"api-key": KEY})
        assert c.stats()["requests"][-1]["api_key_header"] == KEY
    finally:
        c.config(auth_header="bearer", required_query={})


TESTS = [test_auth, test_full_lifecycle, test_fail_every, test_expired,
         test_failed_and_invalid_url, test_cancel, test_list_paging, test_embeddings,
         test_upload_validation, test_metadata_limit, test_reset_fault, test_429_fault,
         test_truncated_download, test_reset_after_upload, test_500_after_create,
         test_advance_and_delete, test_stats_counts, test_random_faults_reproducible,
         test_hang_before_release_then_acts, test_hang_before_client_gone_abandons,
         test_hang_after_acts_then_holds, test_stall_upload_client_gone,
         test_stall_upload_released_acts, test_truncated_request_body_abandoned,
         test_stall_download, test_slow_download_and_upload, test_attempts_vs_acted,
         test_no_listing]

TESTS += [test_limit_config_validation, test_max_bytes_per_file, test_max_requests_per_file,
          test_one_model_per_batch, test_enqueued_token_limit, test_stats_batches]

TESTS += [test_redirect_faults, test_echo_auth_fault, test_tls]

TESTS += [test_anthropic_headers, test_anthropic_validation, test_anthropic_lifecycle,
          test_anthropic_cancel_and_expire, test_own_auth_header_and_query]

TESTS += [test_go_duration, test_direct_echo, test_direct_markers, test_direct_latency,
          test_direct_rpm, test_direct_tpm, test_direct_headers_off, test_no_batch_api,
          test_direct_in_flight_peak, test_direct_faults, test_direct_config_validation]


# --------------------------------------------------------------------------- runner


def start_server(tmp):
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", port_file,
                             "--api-key", KEY, "--seed", "1", "--max-lifetime", "60"],
                            stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("fake server did not start")
        time.sleep(0.02)
    with open(port_file) as f:
        port = int(f.read())
    line = proc.stdout.readline().strip()
    assert line == f"listening on 127.0.0.1:{port}", line
    return proc, port


def main():
    started = time.monotonic()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        client = Client(port)
        try:
            for test in TESTS:
                client.close()
                try:
                    client.config(faults=[])
                    test(client)
                    passed += 1
                    print(f"ok   {test.__name__}")
                except Exception:
                    failed += 1
                    print(f"FAIL {test.__name__}")
                    traceback.print_exc(file=sys.stdout)
            client.close()
            proc.send_signal(signal.SIGTERM)  # the server must exit cleanly on SIGTERM
            try:
                ok = proc.wait(timeout=5) == 0
            except subprocess.TimeoutExpired:
                ok = False
            passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
            print(f"{'ok  ' if ok else 'FAIL'} sigterm_shutdown")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"took {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
