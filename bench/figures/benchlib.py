"""benchlib: the small helper every bench/figures/NN_*.py script imports.

Protocol (bench/run runs each executable bench/figures/NN_* in name order):
  environment   OBATCH_BENCH_BUILD   Release build dir (libobatch.so, obatch, bench binaries)
                OBATCH_SOURCE        repo root
                OBATCH_BENCH_SCALE   1 = the issue's sizes; 0.01 = smoke
                OBATCH_BENCH_REPEATS runs per measurement (default 5); report medians
                OBATCH_BENCH_TMP     scratch dir on disk (big files go there)
                OBATCH_PYTHON        python3 for peers (the bench venv: has openai-batch)
  stdout        one JSON object per row (use row()); diagnostics -> stderr (use log())
  exit status   non-zero only on a real failure

API (import with: sys.path.insert(0, os.path.dirname(__file__)); import benchlib):
  ENV                      namespace: build, source, scale, repeats, tmp, python (from the
                           environment above; defaults let a script run by hand from the repo)
  scaled(n, minimum=1)     int(n * ENV.scale), at least `minimum`
  log(*args)               print to stderr
  median(values)           statistics.median, None if empty (Nones dropped)
  measure(argv, env=None, cwd=None, stdin_path=None) -> Measurement
                           runs argv as a whole process inside a fresh Python wrapper
                           process, so resource.getrusage(RUSAGE_CHILDREN) there sees only
                           that child: Measurement(wall_s, maxrss_bytes, user_s, sys_s,
                           returncode, stdout, stderr). stdout/stderr are captured as text.
                           Raises RuntimeError when the command exits non-zero.
  measure_many(argv, repeats=None, **kw) -> list[Measurement]  (repeats default ENV.repeats)
  scratch(name)            context manager: a fresh dir ENV.tmp/name, removed afterwards
  chat_body(i, size=300)   deterministic chat-completions request body (JSON text, compact,
                           exactly `size` bytes when size >= ~140), model "gpt-4o-mini"
  input_line(i, body=None) a batch input line {"custom_id":"request-<i+1>","method":"POST",
                           "url":"/v1/chat/completions","body":...} (no newline)
  output_line(i, size=None) an OpenAI batch *output* line for request i (custom_id
                           "request-<i+1>", status 200, a chat.completion body); with `size`
                           the line is padded to about `size` bytes (content grows)
  google_benchmark(binary, filter=None) -> dict name -> benchmark JSON entry
                           runs a Google Benchmark binary (ENV.repeats repetitions, median
                           aggregates; min time 1 s, 0.05 s when ENV.scale < 0.1) and returns
                           the median entries by run name ("BM_Add/300"): items_per_second,
                           bytes_per_second, real_time, counters...
  row(figure, metric, obatch, peer=None, peer_name=None, higher_is_better=True,
      target=None, met=None, note=None, unit=None)
                           prints one row. ratio = obatch/peer (higher_is_better) or
                           peer/obatch (lower is better), so ratio > 1 always means obatch
                           is better; None without a peer or when either value is <= 0.
                           Numbers are rounded sensibly.
"""

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from types import SimpleNamespace

_HERE = os.path.dirname(os.path.abspath(__file__))


def _env():
    source = os.environ.get("OBATCH_SOURCE") or os.path.dirname(os.path.dirname(_HERE))
    return SimpleNamespace(
        build=os.environ.get("OBATCH_BENCH_BUILD") or os.path.join(source, "build-bench"),
        source=source,
        scale=float(os.environ.get("OBATCH_BENCH_SCALE") or 1),
        repeats=max(1, int(os.environ.get("OBATCH_BENCH_REPEATS") or 5)),
        tmp=os.environ.get("OBATCH_BENCH_TMP") or tempfile.gettempdir(),
        python=os.environ.get("OBATCH_PYTHON") or sys.executable,
    )


ENV = _env()


def scaled(n, minimum=1):
    return max(int(minimum), int(n * ENV.scale))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Measurement(SimpleNamespace):
    """wall_s, maxrss_bytes, user_s, sys_s, returncode, stdout, stderr"""


# Runs in its own interpreter: forks the command, waits, reports wall time and
# getrusage(RUSAGE_CHILDREN) (only this one child was ever waited for).
_WRAPPER = r"""
import json, os, resource, subprocess, sys, time
out_path, stdin_path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
t0 = time.perf_counter()
rc = subprocess.call(argv, stdin=stdin)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out_path, "w") as f:
    json.dump({"wall_s": wall, "maxrss_bytes": ru.ru_maxrss * 1024,
               "user_s": ru.ru_utime, "sys_s": ru.ru_stime, "returncode": rc}, f)
"""


def measure(argv, env=None, cwd=None, stdin_path=None):
    argv = [str(a) for a in argv]
    fd, out_path = tempfile.mkstemp(prefix="benchlib-", suffix=".json")
    os.close(fd)
    try:
        p = subprocess.run(
            [sys.executable, "-c", _WRAPPER, out_path, stdin_path or ""] + argv,
            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            errors="replace")
        try:
            with open(out_path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            raise RuntimeError("benchlib.measure: wrapper failed for %s: %s" % (argv, p.stderr))
    finally:
        os.unlink(out_path)
    m = Measurement(stdout=p.stdout, stderr=p.stderr, **data)
    if m.returncode != 0:
        raise RuntimeError("command failed (exit %d): %s\n%s" % (m.returncode, " ".join(argv), m.stderr))
    return m


def measure_many(argv, repeats=None, **kw):
    return [measure(argv, **kw) for _ in range(repeats or ENV.repeats)]


@contextlib.contextmanager
def scratch(name):
    path = os.path.join(ENV.tmp, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


_WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
          "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
          "xray yankee zulu").split()


def _text(i, n):
    """Deterministic prose of exactly n characters (n >= 0)."""
    out, k = [], i * 7919
    total = 0
    while total <= n:
        w = _WORDS[k % len(_WORDS)]
        k = (k * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(w)
        total += len(w) + 1
    return " ".join(out)[:n]


def chat_body(i, size=300):
    head = ('{"model":"gpt-4o-mini","max_tokens":256,"temperature":0.2,"messages":['
            '{"role":"system","content":"You are a helpful assistant."},'
            '{"role":"user","content":"')
    tail = '"}]}'
    pre = "Question %d: " % i
    fill = max(0, size - len(head) - len(tail) - len(pre))
    return head + pre + _text(i, fill) + tail


def input_line(i, body=None):
    return ('{"custom_id":"request-%d","method":"POST","url":"/v1/chat/completions","body":%s}'
            % (i + 1, body if body is not None else chat_body(i)))


def output_line(i, size=None):
    content = "Answer %d: " % i
    base = _output_line(i, content)
    if size and len(base) < size:
        content += _text(i, size - len(base))
        base = _output_line(i, content)
    return base


def _output_line(i, content):
    return json.dumps({
        "id": "batch_req_%016x" % (i * 2654435761 & 0xFFFFFFFFFFFFFFFF),
        "custom_id": "request-%d" % (i + 1),
        "response": {
            "status_code": 200,
            "request_id": "req_%032x" % (i * 0x9E3779B97F4A7C15 & (2**128 - 1)),
            "body": {
                "id": "chatcmpl-%d" % i, "object": "chat.completion", "created": 1711652795,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                     "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 22, "completion_tokens": 2 + len(content) // 4,
                          "total_tokens": 24 + len(content) // 4},
                "system_fingerprint": "fp_0ba0d124f1"}},
        "error": None}, separators=(",", ":"))


def _round(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    a = abs(v)
    if a >= 1000:
        return round(v)
    if a >= 10:
        return round(v, 1)
    if a >= 0.1:
        return round(v, 2)
    return float("%.3g" % v)


def row(figure, metric, obatch, peer=None, peer_name=None, higher_is_better=True,
        target=None, met=None, note=None, unit=None):
    ratio = None
    # A ratio of a value <= 0 (a difference of two noisy times can be) means nothing.
    if peer is not None and obatch is not None and peer > 0 and obatch > 0:
        ratio = obatch / peer if higher_is_better else peer / obatch
    r = {"figure": figure, "metric": metric, "obatch": _round(obatch), "peer_name": peer_name,
         "peer": _round(peer), "ratio": _round(ratio), "higher_is_better": higher_is_better,
         "target": target, "met": met, "note": note}
    if unit is not None:
        r["unit"] = unit
    print(json.dumps(r), flush=True)
    return r


def google_benchmark(binary, filter=None):
    min_time = 1.0 if ENV.scale >= 0.1 else 0.05
    argv = [binary, "--benchmark_format=json", "--benchmark_min_time=%g" % min_time,
            "--benchmark_repetitions=%d" % ENV.repeats, "--benchmark_report_aggregates_only=true"]
    if filter:
        argv.append("--benchmark_filter=" + filter)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace")
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (binary, p.returncode, p.stderr))
    out = {}
    for b in json.loads(p.stdout)["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            raise RuntimeError("%s: %s: %s" % (binary, b["name"], b.get("error_message")))
        out[b.get("run_name", b["name"])] = b
    return out
