#!/usr/bin/env python3
"""The official `openai` Python SDK against `obatch serve`: a batch through the gateway
in front of the fake server's normal endpoints (upload, create, poll, download, list
batches and files, delete) and a deferred chat request (create gives the id, the same create the
completion); the SDK's own errors for a wrong key, another client's batch and a
too-big upload.

The SDK lives in a venv made by scripts/openai-venv.sh (ctest fixture
serve.openai_venv; OBATCH_OPENAI_PYTHON is its Python), and runs
serve_sdk_client.py there. Without it these tests skip, except in CI (CI=true),
where they fail.
"""

import json
import os
import subprocess

from cli_support import KEY
from fault_support import CliTestCase
from serve_support import Serve, chat_jsonl

SDK_PYTHON = os.environ.get("OBATCH_OPENAI_PYTHON", "")
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_sdk_client.py")


class CliServeSdkTest(CliTestCase):

    def setUp(self):
        super().setUp()
        missing = None
        if not os.path.isfile(SDK_PYTHON) or not os.access(SDK_PYTHON, os.X_OK):
            missing = "no venv Python (OBATCH_OPENAI_PYTHON=%r)" % SDK_PYTHON
        elif subprocess.run([SDK_PYTHON, "-c", "import openai"], capture_output=True).returncode:
            missing = "%s cannot import openai" % SDK_PYTHON
        if missing:
            message = missing + ": run scripts/openai-venv.sh (the serve.openai_venv fixture)"
            if os.environ.get("CI") == "true":
                self.fail(message)
            self.skipTest(message)

    def sdk(self, case, *args):
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        proc = subprocess.run([SDK_PYTHON, CLIENT, case] + [str(a) for a in args], env=env,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def test_sdk_batch_through_the_gateway(self):
        serve = Serve(self)
        path = os.path.join(self.cwd, "input.jsonl")
        with open(path, "wb") as f:
            f.write(chat_jsonl(25))
        seen = self.sdk("batch", serve.base_url, "any-key", path)
        self.assertEqual(seen["file"]["purpose"], "batch")
        self.assertEqual(seen["file"]["bytes"], os.path.getsize(path))
        self.assertEqual(seen["created"]["status"], "validating")
        self.assertEqual(seen["created"]["metadata"], {"job": "sdk-test"})
        batch = seen["batch"]
        self.assertEqual(batch["status"], "completed")
        self.assertEqual(seen["statuses"][-1], "completed")
        self.assertEqual(batch["request_counts"], {"total": 25, "completed": 25, "failed": 0})
        for field in ("in_progress_at", "finalizing_at", "completed_at"):
            self.assertGreaterEqual(batch[field], batch["created_at"])
        self.assertIsNone(batch["error_file_id"])
        ids = sorted(line["custom_id"] for line in seen["output"])
        self.assertEqual(ids, sorted("req-%d" % i for i in range(25)))
        for line in seen["output"]:
            body = line["response"]["body"]
            self.assertEqual(body["choices"][0]["message"]["content"],
                             "echo: hello " + line["custom_id"].split("-")[1])
        self.assertEqual(seen["listed"], [batch["id"]])
        self.assertEqual(seen["files"], [seen["file"]["id"]])
        self.assertEqual(seen["outputs"], [batch["output_file_id"]])
        self.assertTrue(seen["deleted"])
        self.assertEqual(seen["files_after"], [batch["output_file_id"]])  # paged by one
        stats = self.server.stats()
        self.assertEqual((stats["direct_requests"], stats["batches_created"]), (25, 0))

    def test_sdk_deferred_chat_completion(self):
        serve = Serve(self, upstream=False)
        seen = self.sdk("deferred", serve.base_url, "any-key", "sdk deferred")
        first = seen["first"]
        self.assertRegex(first["id"], r"^obq_[0-9a-f]{32}$")
        self.assertEqual(first["object"], "deferred_request")
        self.assertIn(first["status"], ("queued", "submitted"))
        self.assertEqual(seen["state"]["id"], first["id"])
        self.assertEqual(seen["status_code"], 200)
        self.assertEqual(seen["header_id"], first["id"])
        completion = seen["completion"]
        self.assertEqual(completion["object"], "chat.completion")
        self.assertEqual(completion["choices"][0]["message"]["content"], "echo: " + first["id"])
        self.assertEqual(seen["final_state"]["status"], "completed")
        # The provider's answer, as the SDK received it.
        self.assertEqual(seen["final_state"]["response"]["body"], seen["raw_body"])
        self.assertEqual(seen["raw_body"]["id"], completion["id"])
        # An Idempotency-Key names another request (stored once more, its own id).
        self.assertRegex(seen["keyed_id"], r"^obq_[0-9a-f]{32}$")
        self.assertNotEqual(seen["keyed_id"], first["id"])

    def test_sdk_errors_wrong_key_other_client_big_upload(self):
        keys_file = os.path.join(self.cwd, "clients")
        keys = [self.run_cli("serve", "--client-keys", keys_file, "--add-client", name)
                .stdout.strip() for name in ("one", "two")]
        self.secrets += keys
        serve = Serve(self, "--client-keys", keys_file, "--max-upload-mb", "1")
        big = os.path.join(self.cwd, "big.jsonl")
        with open(big, "wb") as f:
            f.write(chat_jsonl(12000))
        seen = self.sdk("refused", serve.base_url, keys[0], keys[1], big)
        self.assertEqual(seen["wrong_key"]["status"], 401)
        self.assertEqual(seen["wrong_key"]["body"]["code"], "invalid_api_key")
        self.assertEqual(seen["big"]["status"], 413)
        self.assertEqual(seen["big"]["body"]["code"], "file_too_large")
        self.assertEqual(seen["other_client"]["status"], 404)
        for answer in seen.values():
            for key in keys + [KEY]:
                self.assertNotIn(key, json.dumps(answer))


if __name__ == "__main__":
    import unittest
    unittest.main()
