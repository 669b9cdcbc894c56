"""What the figure 3 and 4 peers share: the Files + Batches calls the way the
SDK-based Python tools make them, whole bodies in memory (urllib, stdlib)."""
import json
import urllib.request
import uuid

TERMINAL = ("completed", "failed", "expired", "cancelled")


class Api:
    def __init__(self, base, key):
        self.base = base
        self.headers = {"Authorization": "Bearer " + key}

    def call(self, method, path, data=None, ctype="application/json"):
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=dict(self.headers))
        if data is not None:
            req.add_header("Content-Type", ctype)
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.read()

    def upload(self, content):
        """Uploads `content` (bytes) for batch: built once more as the POST body."""
        b = uuid.uuid4().hex
        body = (b"--" + b.encode() + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                b"--" + b.encode() + b'\r\nContent-Disposition: form-data; name="file"; '
                b'filename="input.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n'
                + content + b"\r\n--" + b.encode() + b"--\r\n")
        return json.loads(self.call("POST", "/files", body, "multipart/form-data; boundary=" + b))["id"]

    def create(self, file_id):
        return json.loads(self.call("POST", "/batches", json.dumps({
            "input_file_id": file_id, "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}).encode()))

    def retrieve(self, batch_id):
        return json.loads(self.call("GET", "/batches/" + batch_id))

    def content(self, file_id):
        return self.call("GET", "/files/%s/content" % file_id)
