"""Peer of figure 7: python split_merge_threads.py BASE_URL KEY INPUT N_PER_PART OUT WORK_DIR POLL_S

What a user writes today for an input over one batch's limits (the split /
submit / poll / download / merge loop that gpt_batch_api and curator users
write around the SDK), with the standard library only (http.client):

1. read INPUT line by line and write it into part files of N_PER_PART lines
   (WORK_DIR/part-K.jsonl), keeping every custom_id in input order;
2. for every part at once, one thread each (the same concurrency as
   `obatch run`, which runs every part on its own thread): upload the file
   (multipart POST /v1/files, streamed from disk), create the batch, check its
   status every POLL_S seconds until it ends, download its output (and error)
   file to WORK_DIR (streamed to disk);
3. merge: json.loads of every line of every downloaded file into a dict by
   custom_id, then json.dumps of each result in the input's order into OUT.

Lines are not checked (no JSON validation, no limits) beyond what the merge
needs. A connection reset before an answer is retried (see call()), as the SDK
does. Prints {"seconds", "results", "parts"} on stdout.
"""
import http.client
import json
import os
import shutil
import sys
import threading
import time
import urllib.parse
import uuid

TERMINAL = ("completed", "failed", "expired", "cancelled")

base, key, inp, per_part, out, work, poll_s = sys.argv[1:8]
per_part, poll_s = int(per_part), float(poll_s)
url = urllib.parse.urlsplit(base)
prefix = url.path.rstrip("/")  # "/v1"
auth = {"Authorization": "Bearer " + key}


def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=600)


def call(conn, method, path, body=None, headers=None):
    """One call; a connection reset or closed before the answer is retried (up to 5
    times, 0.05 s apart), as the openai SDK retries connection errors: the fake
    server's accept queue is short and 20 threads connect at once. `body` may be a
    function that returns the body (a generator is used up by one attempt)."""
    for attempt in range(6):
        try:
            conn.request(method, prefix + path, body=body() if callable(body) else body,
                         headers=dict(auth, **(headers or {})))
            resp = conn.getresponse()
            data = resp.read()
            break
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            conn.close()
            if attempt == 5:
                raise
            time.sleep(0.05)
    if resp.status != 200:
        raise RuntimeError("%s %s: %d %s" % (method, path, resp.status, data[:300]))
    return json.loads(data)


def upload(conn, path):
    boundary = uuid.uuid4().hex
    head = ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
            "Content-Type: application/jsonl\r\n\r\n"
            % (boundary, boundary, os.path.basename(path))).encode()
    tail = ("\r\n--%s--\r\n" % boundary).encode()

    def pieces():
        yield head
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                yield chunk
        yield tail

    return call(conn, "POST", "/files", pieces, {
        "Content-Type": "multipart/form-data; boundary=" + boundary,
        "Content-Length": str(len(head) + os.path.getsize(path) + len(tail))})["id"]


def download(conn, file_id, path):
    for attempt in range(6):
        try:
            conn.request("GET", "%s/files/%s/content" % (prefix, file_id), headers=auth)
            resp = conn.getresponse()
            break
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            conn.close()
            if attempt == 5:
                raise
            time.sleep(0.05)
    if resp.status != 200:
        raise RuntimeError("download %s: %d %s" % (file_id, resp.status, resp.read()[:300]))
    with open(path, "wb") as f:
        shutil.copyfileobj(resp, f, 1 << 20)


def run_part(k, path, downloads, errors):
    try:
        conn = connect()
        batch = call(conn, "POST", "/batches", json.dumps({
            "input_file_id": upload(conn, path), "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}), {"Content-Type": "application/json"})
        while True:
            time.sleep(poll_s)
            batch = call(conn, "GET", "/batches/" + batch["id"])
            if batch["status"] in TERMINAL:
                break
        if batch["status"] != "completed":
            raise RuntimeError("part %d: batch %s" % (k, batch["status"]))
        for kind in ("output", "error"):
            fid = batch.get(kind + "_file_id")
            if fid:
                dest = os.path.join(work, "part-%d-%s.jsonl" % (k, kind))
                download(conn, fid, dest)
                downloads[k].append(dest)
        conn.close()
    except Exception as e:  # noqa: BLE001 (reported by the main thread)
        errors.append("part %d: %r" % (k, e))


t0 = time.perf_counter()

# 1. split, keeping the input's order of custom_ids
ids, parts, f_out, n_in_part = [], [], None, 0
with open(inp, "rb") as f:
    for line in f:
        if not line.strip():
            continue
        if f_out is None or n_in_part == per_part:
            if f_out is not None:
                f_out.close()
            parts.append(os.path.join(work, "part-%d.jsonl" % len(parts)))
            f_out, n_in_part = open(parts[-1], "wb"), 0
        ids.append(json.loads(line)["custom_id"])
        f_out.write(line)
        n_in_part += 1
if f_out is not None:
    f_out.close()

# 2. every part at once, one thread each
downloads, errors = [[] for _ in parts], []
threads = [threading.Thread(target=run_part, args=(k, p, downloads, errors))
           for k, p in enumerate(parts)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("peer failed: " + "; ".join(errors))

# 3. merge in input order
results = {}
for files in downloads:
    for path in files:
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    results[r["custom_id"]] = r
n = 0
with open(out, "w") as f:
    for cid in ids:
        r = results.get(cid)
        if r is not None:
            f.write(json.dumps(r) + "\n")
            n += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "results": n, "parts": len(parts)}))
