#!/usr/bin/env python3
"""Figure 6 of issue 6: each binding's overhead on adding 100,000 requests.

The same 100,000 chat bodies (benchlib.chat_body, ~300 B, JSON text) are read into memory
first, then added one by one with no custom_id (the library numbers them) and the time of
the add loop alone is taken, in: C (figures_driver add: obatch_add), Node (Batch.add),
Go (Batch.Add) and Ruby (Batch#add), each the binding's idiomatic call with a string body.
No network: add only validates and writes the local input file. A batch holds at most
50,000 requests (OpenAI's limit), so every driver adds 50,000 per batch handle and makes
and closes the handles outside the timing. Requests/s, medians over
OBATCH_BENCH_REPEATS; the ratio is binding / C (1.0 = no overhead). A binding that is not
built in OBATCH_BENCH_BUILD is reported as skipped. Scale: requests x scale.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "drivers"))
import benchlib  # noqa: E402
from benchlib import ENV, log, median, row  # noqa: E402
import fig_server  # noqa: E402

FIGURE = "6. binding overhead, 100,000 adds"
DRIVERS = os.path.join(ENV.source, "bench", "drivers")


def run_json(argv, env=None, cwd=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv[0], p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def node_cmd(tmp):
    addon = os.path.join(ENV.build, "bindings", "node", "Release", "obatch.node")
    if not os.path.exists(addon):
        return None, "skipped: the Node addon is not built in %s (OBATCH_BINDINGS)" % ENV.build
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        return None, "skipped: no node executable"
    env = fig_server.lib_env({"OBATCH_NODE_ADDON": addon})
    script = os.path.join(DRIVERS, "add_bench.js")
    binding = os.path.join(ENV.source, "bindings", "node")
    return (lambda bodies, work: run_json([node, script, binding, bodies, work], env=env)), None


def ruby_cmd(tmp):
    ext_dir = os.path.join(ENV.build, "bindings", "ruby", "lib")
    if not os.path.isdir(os.path.join(ext_dir, "obatch")):
        return None, "skipped: the Ruby extension is not built in %s (OBATCH_BINDINGS)" % ENV.build
    ruby = shutil.which("ruby")
    if not ruby:
        return None, "skipped: no ruby executable"
    lib = os.path.join(ENV.source, "bindings", "ruby", "lib")
    script = os.path.join(DRIVERS, "add_bench.rb")
    env = fig_server.lib_env()
    return (lambda bodies, work: run_json([ruby, "-I", lib, "-I", ext_dir, script, bodies, work],
                                          env=env)), None


def go_cmd(tmp):
    go_build = os.path.join(ENV.build, "bindings", "go")
    pc_dir = os.path.join(go_build, "pkgconfig")
    raw = os.path.join(ENV.source, "bindings", "go", "internal", "raw", "obatch_wrap.c")
    if not os.path.isdir(pc_dir) or not os.path.exists(raw):
        return None, "skipped: the Go binding is not built in %s (OBATCH_BINDINGS)" % ENV.build
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go",
                                                                    os.X_OK) else None)
    if not go:
        return None, "skipped: no go executable"
    # The environment of bindings/go/CMakeLists.txt: offline, caches in the build tree.
    env = fig_server.lib_env({
        "PKG_CONFIG_PATH": pc_dir, "CGO_ENABLED": "1", "GOFLAGS": "-mod=mod",
        "GOPROXY": "off", "GOTOOLCHAIN": "local", "GOENV": "off",
        "GOCACHE": os.path.join(go_build, "gocache"),
        "GOPATH": os.path.join(go_build, "gopath")})
    exe = os.path.join(tmp, "goadd")
    p = subprocess.run([go, "build", "-o", exe, "."], cwd=os.path.join(DRIVERS, "go_add"),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return None, "skipped: go build failed: %s" % p.stderr.strip()[-300:]
    return (lambda bodies, work: run_json([exe, bodies, work], env=env)), None


def main():
    n = benchlib.scaled(100000, 100)
    driver = fig_server.find_driver()
    with benchlib.scratch("fig06") as tmp:
        bodies = os.path.join(tmp, "bodies.jsonl")
        with open(bodies, "w") as f:
            for i in range(n):
                f.write(benchlib.chat_body(i) + "\n")
        langs = [("C", (lambda b, w: run_json([driver, "add", b, "work_dir=" + w],
                                              env=fig_server.lib_env())), None)]
        for name, make in (("Node", node_cmd), ("Go", go_cmd), ("Ruby", ruby_cmd)):
            try:
                fn, why = make(tmp)
            except Exception as e:  # a broken toolchain is a skipped row, not a failed figure
                fn, why = None, "skipped: %s" % e
            langs.append((name, fn, why))
        rates = {name: [] for name, _, _ in langs}
        failed = {}
        for k in range(ENV.repeats):
            for name, fn, why in langs:
                if fn is None or name in failed:
                    continue
                work = os.path.join(tmp, "work-%s-%d" % (name, k))
                os.makedirs(work)
                try:
                    r = fn(bodies, work)
                except Exception as e:
                    if name == "C":
                        raise
                    failed[name] = "skipped: %s" % str(e)[-300:]
                    continue
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                if r["requests"] != n:
                    raise RuntimeError("%s added %d of %d" % (name, r["requests"], n))
                rates[name].append(r["per_s"])
                log("fig06: repeat %d, %s: %.0f requests/s (%.3f s)"
                    % (k + 1, name, r["per_s"], r["seconds"]))
    c_rate = median(rates["C"])
    row(FIGURE, "requests/s added from C", c_rate, unit="requests/s",
        note="%d bodies of ~300 B, obatch_add(b, body, NULL, NULL); median of %d"
             % (n, len(rates["C"])))
    calls = {"Node": "batch.add(string)", "Go": "b.Add(string)", "Ruby": "batch.add(string)"}
    for name, fn, why in langs[1:]:
        why = why or failed.get(name)
        if why:
            row(FIGURE, "requests/s added from %s" % name, None, peer=c_rate, peer_name="C API",
                unit="requests/s", note=why)
            continue
        rate = median(rates[name])
        row(FIGURE, "requests/s added from %s" % name, rate, peer=c_rate, peer_name="C API",
            higher_is_better=True, unit="requests/s",
            note="%s; ratio = %s / C (1.0: no overhead); median of %d"
                 % (calls[name], name, len(rates[name])))


if __name__ == "__main__":
    main()
