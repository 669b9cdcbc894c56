#!/usr/bin/env python3
"""`obatch serve` end to end, a real server process on loopback in front of the fake
server: /healthz and /metrics; client keys (hashed at rest; no key, a wrong key and
another client's ids get 401 / 404 and nothing else); the deferred endpoints (202 with
an id, the same request again, Idempotency-Key, then the provider's own answer; bad
bodies get the OpenAI error shape); uploads refused (too big, malformed) with nothing
stored; the batch gateway driven by `obatch run --base-url`, cursor paging, a batch
whose completion window ends (expired) and a cancelled one, each custom_id once; and
kill -9 mid-batch: the next start finishes it without sending a finished line again.
The official openai SDK drives the same server in test_cli_serve_sdk.py.
"""

import json
import os
import threading

from cli_support import CLI, KEY, read_jsonl
from fault_support import CliTestCase
from serve_support import Serve, chat_jsonl, check_error_shape

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


class CliServeTest(CliTestCase):

    def ids_once(self, out, err, n, prefix="req"):
        ids = [line["custom_id"] for line in out + err]
        self.assertEqual(len(ids), len(set(ids)), "a custom_id twice")
        self.assertEqual(sorted(ids), sorted("%s-%d" % (prefix, i) for i in range(n)))

    def batch_files(self, serve, batch, key=None):
        out = serve.content(batch["output_file_id"], key) if batch["output_file_id"] else []
        err = serve.content(batch["error_file_id"], key) if batch["error_file_id"] else []
        return out, err

    def stored_files(self, serve):
        files = os.path.join(serve.data_dir, "files")
        return sorted(n for n in os.listdir(files) if n != "tmp") + \
            sorted(os.listdir(os.path.join(files, "tmp")))

    # ---- the server

    def test_healthz_metrics_and_no_open_listen_without_keys(self):
        # An upload a killed server was receiving is not kept.
        leftover = os.path.join(self.cwd, "serve-data", "files", "tmp", "upload-AbC123")
        os.makedirs(os.path.dirname(leftover))
        with open(leftover, "w") as f:
            f.write("half an upload")
        serve = Serve(self)
        self.assertFalse(os.path.exists(leftover))
        status, _, body = serve.call("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        status, _ = serve.upload(chat_jsonl(3))
        self.assertEqual(status, 200)
        status, headers, text = serve.call("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = text.decode()
        for line in ('obatch_serve_batches{status="completed"} 0',
                     'obatch_serve_deferred_requests{state="queued"} 0',
                     "obatch_serve_upstream_requests_total 0",
                     "obatch_serve_upstream_errors_total 0",
                     'obatch_serve_http_responses_total{code="200"} 2'):
            self.assertIn(line + "\n", text)
        self.assertIn("# TYPE obatch_serve_upstream_requests_per_second gauge\n", text)
        # Anywhere but loopback needs client keys.
        proc = self.run_cli("serve", "--listen", "0.0.0.0:0", "--data-dir",
                            os.path.join(self.cwd, "other"))
        self.assert_exit(proc, 2)
        self.assertIn("--client-keys", proc.stderr)
        # One server per data directory.
        proc = self.run_cli("serve", "--listen", "127.0.0.1:0", "--data-dir", serve.data_dir)
        self.assert_exit(proc, 2)
        self.assertIn("another obatch serve uses", proc.stderr)
        code, _, stderr = serve.stop()
        self.assertEqual(code, 0, stderr)

    def test_client_keys_hashed_and_checked(self):
        keys_file = os.path.join(self.cwd, "clients")
        keys = {}
        for name in ("alice", "bob"):
            proc = self.run_cli("serve", "--client-keys", keys_file, "--add-client", name)
            self.assert_exit(proc, 0)
            keys[name] = proc.stdout.strip()
            self.assertRegex(keys[name], r"^obk_[0-9a-f]{48}$")
        self.secrets += list(keys.values())  # never printed by anything after this
        with open(keys_file, encoding="utf-8") as f:
            stored = f.read()
        self.assertEqual(oct(os.stat(keys_file).st_mode & 0o777), "0o600")
        for key in keys.values():
            self.assertNotIn(key, stored, "a client key stored as it is")
        serve = Serve(self, "--client-keys", keys_file)
        # No key, a wrong key: 401 with the error shape, on every /v1 path.
        for key in (None, "obk_" + "0" * 48, keys["alice"] + "x"):
            for method, path in (("GET", "/v1/batches"), ("POST", "/v1/chat/completions")):
                status, _, answer = serve.call(method, path, CHAT if method == "POST" else None,
                                               key=key)
                self.assertEqual(status, 401, (key, path, answer))
                check_error_shape(self, answer, status, "invalid_api_key")
        status, answer = serve.upload(chat_jsonl(2), key=None)
        self.assertEqual(status, 401)
        self.assertEqual(self.stored_files(serve), [], "an upload without a key was kept")
        # Alice's file, batch and deferred request are hers alone.
        status, f = serve.upload(chat_jsonl(4), key=keys["alice"])
        self.assertEqual(status, 200, f)
        batch = serve.create_batch(f["id"], key=keys["alice"])
        batch = serve.wait_batch(batch["id"], key=keys["alice"])
        self.assertEqual(batch["status"], "completed")
        status, _, put = serve.call("POST", "/v1/chat/completions", CHAT, key=keys["alice"])
        self.assertEqual(status, 202, put)
        for method, path in (("GET", "/v1/files/" + f["id"]),
                             ("GET", "/v1/files/%s/content" % f["id"]),
                             ("GET", "/v1/files/%s/content" % batch["output_file_id"]),
                             ("DELETE", "/v1/files/" + f["id"]),
                             ("GET", "/v1/batches/" + batch["id"]),
                             ("POST", "/v1/batches/%s/cancel" % batch["id"]),
                             ("GET", "/v1/deferred/" + put["id"])):
            status, _, answer = serve.call(method, path, key=keys["bob"])
            self.assertEqual(status, 404, (method, path, answer))
            check_error_shape(self, answer, status)
            self.assertNotIn("alice", json.dumps(answer))
        status, _, page = serve.call("GET", "/v1/batches", key=keys["bob"])
        self.assertEqual((status, page["data"], page["has_more"]), (200, [], False))
        # Alice still has all of it.
        status, _, same = serve.call("GET", "/v1/files/" + f["id"], key=keys["alice"])
        self.assertEqual((status, same["id"]), (200, f["id"]))
        status, _, state = serve.call("GET", "/v1/deferred/" + put["id"], key=keys["alice"])
        self.assertEqual((status, state["object"]), (200, "deferred_request"))
        code, _, stderr = serve.stop()
        self.assertEqual(code, 0, stderr)

    # ---- deferred requests

    def test_deferred_same_request_then_the_answer(self):
        serve = Serve(self, upstream=False)
        status, headers, first = serve.call("POST", "/v1/chat/completions", CHAT)
        self.assertEqual(status, 202, first)
        self.assertEqual(first["object"], "deferred_request")
        self.assertRegex(first["id"], r"^obq_[0-9a-f]{32}$")
        self.assertIn(first["status"], ("queued", "submitted"))
        self.assertEqual(headers["obatch-deferred-id"], first["id"])
        # The same canonical body (keys in another order): the same request.
        status, _, again = serve.call(
            "POST", "/v1/chat/completions",
            '{"messages":[{"content":"hello","role":"user"}],"model":"gpt-4o-mini"}')
        self.assertEqual((status, again["id"]), (202, first["id"]))

        def answered():
            status, _, body = serve.call("POST", "/v1/chat/completions", CHAT)
            return body if status == 200 else None
        body = self.wait_until(answered, "the deferred answer", serve.proc, timeout=60)
        self.assertEqual(body["object"], "chat.completion")
        self.assertEqual(body["choices"][0]["message"]["content"], "echo: " + first["id"])
        status, _, state = serve.call("GET", "/v1/deferred/" + first["id"])
        self.assertEqual(status, 200)
        self.assertEqual(state["status"], "completed")
        self.assertEqual(state["response"]["status_code"], 200)
        self.assertEqual(state["response"]["body"], body)  # the provider's own answer
        # Idempotency-Key: another body under the same key is refused; the key
        # names the request, not its body.
        status, _, keyed = serve.call("POST", "/v1/embeddings",
                                      {"model": "text-embedding-3-small", "input": "a"},
                                      headers={"Idempotency-Key": "k-1"})
        self.assertEqual(status, 202, keyed)
        self.assertNotEqual(keyed["id"], first["id"])
        status, _, reused = serve.call("POST", "/v1/embeddings",
                                       {"model": "text-embedding-3-small", "input": "b"},
                                       headers={"Idempotency-Key": "k-1"})
        self.assertEqual(status, 400, reused)
        check_error_shape(self, reused, status, "idempotency_key_reused")
        status, _, text = serve.call("GET", "/metrics")
        self.assertIn('obatch_serve_deferred_requests{state="completed"} 1', text.decode())
        # The request put twice (and polled) went into one batch, once.
        first_batch = self.server.stats()["batches"][0]
        self.assertEqual(first_batch["requests"], 1)

    def test_deferred_through_the_gateway_without_a_provider(self):
        # --defer-to-upstream: the deferred batches go through the server's own
        # gateway to the upstream; no provider key, no Batch API call upstream.
        keys_file = os.path.join(self.cwd, "clients")
        key = self.run_cli("serve", "--client-keys", keys_file, "--add-client", "app").stdout.strip()
        self.secrets.append(key)
        serve = Serve(self, "--defer-to-upstream", "--client-keys", keys_file,
                      env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "local"}]}
        status, _, first = serve.call("POST", "/v1/chat/completions", body, key=key)
        self.assertEqual(status, 202, first)

        def answered():
            status, _, answer = serve.call("POST", "/v1/chat/completions", body, key=key)
            return answer if status == 200 else None
        answer = self.wait_until(answered, "the deferred answer", serve.proc, timeout=60)
        # The upstream's normal endpoint answered (it echoes the text, not the custom_id).
        self.assertEqual(answer["choices"][0]["message"]["content"], "echo: local")
        stats = self.server.stats()
        self.assertEqual((stats["batches_created"], stats["uploads"], stats["direct_requests"]),
                         (0, 0, 1))
        # The worker's own files and batches are not the client's.
        status, _, page = serve.call("GET", "/v1/batches", key=key)
        self.assertEqual((status, page["data"]), (200, []))
        code, _, stderr = serve.stop()
        self.assertEqual(code, 0, stderr)
        # It needs --upstream, and no provider of its own.
        for extra in ((), ("--upstream", self.server.base_url, "-p", "openai")):
            proc = self.run_cli("serve", "--defer-to-upstream", "--listen", "127.0.0.1:0",
                                "--data-dir", os.path.join(self.cwd, "d2"), *extra)
            self.assert_exit(proc, 2)
            self.assertIn("--defer-to-upstream", proc.stderr)

    def test_deferred_on_postgresql_shared_with_a_queue_worker(self):
        store = self.pg_store()
        serve = Serve(self, "--lease", "2s", upstream=False, store=store)
        worker = self.start_cli("queue", "worker", "--store", store, "--flush-age", "1s",
                                "--lease", "2s", "--poll-interval", "0.1", "--state",
                                os.path.join(self.cwd, "worker-jobs.db"))
        n, ids, lock = 120, {}, threading.Lock()

        def put(start):
            for i in range(start, n, 8):
                body = {"model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": "question %d" % i}]}
                status, _, answer = serve.call("POST", "/v1/chat/completions", body)
                with lock:
                    ids[i] = (status, answer.get("id"), body)
        threads = [threading.Thread(target=put, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(s for s, _, _ in ids.values()), [202] * n)
        self.assertEqual(len({t for _, t, _ in ids.values()}), n)
        for i, (_, ticket, body) in ids.items():
            def answered():
                status, _, answer = serve.call("POST", "/v1/chat/completions", body)
                return answer if status == 200 else None
            answer = self.wait_until(answered, "the answer to %d" % i, serve.proc, timeout=60)
            self.assertEqual(answer["choices"][0]["message"]["content"], "echo: " + ticket)
        # Each request in exactly one batch, whichever worker made it.
        seen = {}
        for b in self.server.stats()["batches"]:
            status, raw = self.server.call("GET", "/v1/files/%s/content" % b["input_file_id"],
                                           auth=KEY)
            text = raw.decode() if isinstance(raw, bytes) else json.dumps(raw)
            for line in text.splitlines():
                cid = json.loads(line)["custom_id"]
                self.assertNotIn(cid, seen, "%s in two batches" % cid)
                seen[cid] = b["id"]
        self.assertEqual(set(seen), {t for _, t, _ in ids.values()})
        worker.terminate()
        code, _, stderr = self.finish(worker)
        self.assertEqual(code, 0, stderr)

    def test_deferred_bad_bodies(self):
        serve = Serve(self, upstream=False)
        for body, word in (('{"model": "gpt-4o-mini", "messages": ', "JSON"),
                           ('{"messages": [{"role": "user", "content": "x"}]}', "model"),
                           ('{"model": "gpt-4o-mini", "messages": "hi"}', "messages"),
                           ("", "body")):
            status, _, answer = serve.call("POST", "/v1/chat/completions", body)
            self.assertEqual(status, 400, (body, answer))
            check_error_shape(self, answer, status)
            self.assertIn(word, answer["error"]["message"])
        status, _, answer = serve.call("GET", "/v1/deferred/obq_" + "0" * 32)
        self.assertEqual(status, 404)
        check_error_shape(self, answer, status)
        # No --upstream: no Batch API here, said so.
        status, _, answer = serve.call("GET", "/v1/batches")
        self.assertEqual(status, 404)
        self.assertIn("--upstream", answer["error"]["message"])
        self.assertEqual(self.server.stats()["batches_created"], 0)

    # ---- the batch gateway

    def test_uploads_refused_and_nothing_stored(self):
        serve = Serve(self, "--max-upload-mb", "1")
        big = chat_jsonl(12000)  # ~1.5 MB
        self.assertGreater(len(big), 1 << 20)
        status, answer = serve.upload(big)
        self.assertEqual(status, 413, answer)
        check_error_shape(self, answer, status, "file_too_large")
        bad_lines = chat_jsonl(3) + b'{"custom_id": "x", "method": "POST"\n'
        status, answer = serve.upload(bad_lines)
        self.assertEqual(status, 400, answer)
        check_error_shape(self, answer, status, "invalid_file")
        self.assertIn("input.jsonl", answer["error"]["message"])
        self.assertIn("line 4", answer["error"]["message"])
        self.assertNotIn(serve.data_dir, answer["error"]["message"])
        dup = chat_jsonl(2) + chat_jsonl(1)
        status, answer = serve.upload(dup)
        self.assertEqual(status, 400, answer)
        self.assertIn("req-0", answer["error"]["message"])
        status, answer = serve.upload(chat_jsonl(2), purpose="fine-tune")
        self.assertEqual(status, 400, answer)
        self.assertEqual(answer["error"]["param"], "purpose")
        status, answer = serve.upload(b"")
        self.assertEqual(status, 400, answer)
        status, _, answer = serve.call("POST", "/v1/files", {"file": "x"})
        self.assertEqual(status, 400, answer)
        check_error_shape(self, answer, status)
        self.assertEqual(self.stored_files(serve), [], "a refused upload was kept")
        status, _, answer = serve.call("POST", "/v1/batches", {
            "input_file_id": "file-nope", "endpoint": "/v1/chat/completions",
            "completion_window": "24h"})
        self.assertEqual(status, 400, answer)
        self.assertEqual(answer["error"]["param"], "input_file_id")
        status, answer = serve.upload(chat_jsonl(2))
        self.assertEqual(status, 200, answer)
        for bad in ({"endpoint": "/v1/images/generations"}, {"completion_window": "forever"},
                    {"metadata": {"k%d" % i: "v" for i in range(17)}}):
            body = dict({"input_file_id": answer["id"], "endpoint": "/v1/chat/completions",
                         "completion_window": "24h"}, **bad)
            status, _, refused = serve.call("POST", "/v1/batches", body)
            self.assertEqual(status, 400, (bad, refused))
            check_error_shape(self, refused, status)

    def test_obatch_run_through_the_gateway_and_paging(self):
        serve = Serve(self)
        self.write_input("input.jsonl", [json.loads(line) for line in
                                         chat_jsonl(50).decode().splitlines()])
        proc = self.run_cli("run", "-p", "openai", "--base-url", serve.base_url, "--poll-interval",
                            "0.2", "input.jsonl", "-o", "out/output.jsonl", timeout=60)
        self.assert_exit(proc, 0)
        out = read_jsonl(os.path.join(self.cwd, "out", "output.jsonl"))
        self.ids_once(out, [], 50)
        for line in out:
            self.assertEqual(line["response"]["status_code"], 200)
            i = line["custom_id"].split("-")[1]
            self.assertEqual(line["response"]["body"]["choices"][0]["message"]["content"],
                             "echo: hello " + i)
        # The upstream saw normal requests only, each once.
        stats = self.server.stats()
        self.assertEqual(stats["batches_created"], 0)
        self.assertEqual(stats["direct_requests"], 50)
        # Cursor paging: newest first, has_more, after.
        for _ in range(2):
            status, f = serve.upload(chat_jsonl(1))
            serve.create_batch(f["id"])
        status, _, page = serve.call("GET", "/v1/batches?limit=2")
        self.assertEqual((status, len(page["data"]), page["has_more"]), (200, 2, True))
        status, _, rest = serve.call("GET", "/v1/batches?limit=2&after=" + page["last_id"])
        self.assertEqual((status, len(rest["data"]), rest["has_more"]), (200, 1, False))
        self.assertEqual(rest["data"][0]["request_counts"]["total"], 50)
        ids = [b["id"] for b in page["data"] + rest["data"]]
        self.assertEqual(len(set(ids)), 3)
        status, _, answer = serve.call("GET", "/v1/batches?limit=101")
        self.assertEqual(status, 400, answer)
        status, _, text = serve.call("GET", "/metrics")
        self.assertIn("obatch_serve_upstream_requests_total 5", text.decode())

    def test_completion_window_expires_and_cancel(self):
        self.server.config(direct_latency_ms=300)
        serve = Serve(self, "--concurrency", "2")
        status, f = serve.upload(chat_jsonl(40))
        self.assertEqual(status, 200, f)
        # 40 requests at 2 x 300 ms take 6 s: a 3 s window (whole seconds from
        # created_at: at least 2 s of sending, under a sanitizer too) ends them early.
        expiring = serve.create_batch(f["id"], window="3s")
        self.assertEqual(expiring["expires_at"], expiring["created_at"] + 3)
        cancelled = serve.create_batch(f["id"])
        self.wait_until(lambda: serve.call("GET", "/v1/batches/" + cancelled["id"])[2]
                        ["request_counts"]["completed"] >= 2, "two results", serve.proc)
        status, _, answer = serve.call("POST", "/v1/batches/%s/cancel" % cancelled["id"])
        self.assertEqual(status, 200, answer)
        self.assertIn(answer["status"], ("cancelling", "cancelled"))
        for batch, ending, code in ((expiring, "expired", "batch_expired"),
                                    (cancelled, "cancelled", "batch_cancelled")):
            batch = serve.wait_batch(batch["id"], timeout=30)
            self.assertEqual(batch["status"], ending)
            self.assertTrue(batch[ending + "_at"])
            out, err = self.batch_files(serve, batch)
            self.ids_once(out, err, 40)
            self.assertGreater(len(out), 0)
            missing = [line for line in err if line["error"]]
            self.assertGreater(len(missing), 0, "nothing left to %s" % ending)
            for line in missing:
                self.assertIsNone(line["response"])
                self.assertEqual(line["error"]["code"], code)
            counts = batch["request_counts"]
            self.assertEqual((counts["total"], counts["completed"], counts["failed"]),
                             (40, len(out), len(err)))
        # Nothing is sent for them afterwards.
        sent = self.server.stats()["direct_requests"]
        self.assertLess(sent, 80)
        status, _, answer = serve.call("POST", "/v1/batches/%s/cancel" % expiring["id"])
        self.assertEqual(status, 400, answer)
        self.assertEqual(self.server.stats()["direct_requests"], sent)

    def test_kill_9_mid_batch_then_the_batch_completes(self):
        self.server.config(direct_latency_ms=50)
        n = 400
        data_dir = os.path.join(self.cwd, "serve-data")
        serve = Serve(self, "--concurrency", "8", data_dir=data_dir)
        status, f = serve.upload(chat_jsonl(n))
        self.assertEqual(status, 200, f)
        batch = serve.create_batch(f["id"])
        partial = os.path.join(data_dir, "batches", batch["id"], "output.jsonl.partial")

        def partial_lines():
            try:
                with open(partial, encoding="utf-8") as fh:
                    return sum(1 for line in fh if line.endswith("\n")) >= 80
            except OSError:
                return False
        self.wait_until(partial_lines, "80 results on disk", serve.proc, timeout=30)
        self.sigkill(serve.proc)
        with open(partial, encoding="utf-8") as fh:
            kept = [json.loads(line)["custom_id"] for line in fh if line.endswith("\n")]
        self.assertLess(len(kept), n, "the batch ended before the kill")
        first = self.server.stats()["direct_requests"]
        serve = Serve(self, "--concurrency", "8", data_dir=data_dir)
        batch = serve.wait_batch(batch["id"], timeout=60)
        self.assertEqual(batch["status"], "completed")
        self.assertEqual(batch["request_counts"], {"total": n, "completed": n, "failed": 0})
        out, err = self.batch_files(serve, batch)
        self.assertEqual(err, [])
        self.ids_once(out, err, n)
        stats = self.server.stats()
        # The second start sent exactly the requests without a result on disk...
        self.assertEqual(stats["direct_requests"] - first, n - len(kept))
        # ...and none of the finished ones again.
        texts = [e["text"] for e in stats["direct_log"]]
        for cid in kept:
            self.assertEqual(texts.count("hello " + cid.split("-")[1]), 1, cid)
        code, _, stderr = serve.stop()
        self.assertEqual(code, 0, stderr)
        self.assertIn("taking up batch " + batch["id"], stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
