#!/usr/bin/env python3
"""Figure 8 (issue 13): tokenizing a 100 MB mixed-language text, tokens/s on one core.

The text (100 MB x OBATCH_BENCH_SCALE, written to OBATCH_BENCH_TMP) is made by a seeded
RNG from paragraphs of English prose, source code, Chinese / Japanese / Korean, Russian,
Arabic, emoji (with ZWJ sequences and skin tones), digit runs and whitespace runs, mixed
with random numbers and identifiers so that pieces repeat little.

Every program reads the file into memory (not timed) and cuts it into pieces of at most
1 MB ending at a line end, the same cut in all (a whole 100 MB string is too big for one
encode in the WASM peer), then times only the tokenizing of every piece, on one thread:

- obatch: bench/drivers/tokenize_driver (public C API, obatch_count_text_tokens).
- tiktoken: npm tiktoken 1.0.22 (the Rust crate in WASM), encode_ordinary(piece).length,
  peers/tokenize_tiktoken.js.
- js-tiktoken: npm js-tiktoken (pure JS), encode(piece, [], []).length, the same script.
  It is ~20x slower than obatch, so it runs over the first ~JS_FRACTION of the text
  (whole pieces; the text is mixed uniformly, the prefix is like the rest).

Encodings o200k_base and cl100k_base, each in the same process one after the other
(the encoding is loaded by one untimed call first). Check: for each encoding, obatch and
tiktoken give the same token count over the whole text, and obatch and js-tiktoken over
js-tiktoken's prefix (the figure fails otherwise). One more obatch run counts the whole
text in one call (notes only). Node and npm packages: bench/run installs them into
BUILD/bench-node; if they are missing, the rows say so (peer null) instead of failing.
"""

import json
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402

FIG = "8. tokenize 100 MB mixed text"
SIZE = bl.scaled(100_000_000, 200_000)
CHUNK = 1_000_000
JS_FRACTION = 0.1
ENCODINGS = ["o200k_base", "cl100k_base"]
NODE_DIR = os.path.join(bl.ENV.build, "bench-node")
PEER = os.path.join(HERE, "peers", "tokenize_tiktoken.js")

ENGLISH = [
    "The quick brown fox jumps over the lazy dog while the committee reviews its budget.",
    "In 1969, astronauts first walked on the Moon; the broadcast reached 600 million people.",
    "Batch processing lets you send many requests at once and collect the results later.",
    "She didn't think it'd work, but they'll try again tomorrow -- if the weather's fine.",
    "Prices rose by 3.7% in March, the largest monthly increase since the autumn of 2008.",
    "\"Are you sure?\" he asked. \"Absolutely,\" she replied, closing the notebook slowly.",
    "Tokenizers split text into pieces with a regular expression, then merge byte pairs.",
    "Most of the library's time goes into parsing JSON lines and checking each request.",
]
CODE = [
    "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "for (size_t i = 0; i < items.size(); ++i) {\n\tif (items[i].id == target) return &items[i];\n}\n",
    "const result = await fetch(`${baseUrl}/v1/batches/${id}`, { headers: { Authorization: token } });\n",
    "{\"custom_id\": \"request-42\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {}}\n",
    "SELECT user_id, COUNT(*) AS n FROM orders WHERE created_at >= '2024-01-01' GROUP BY user_id;\n",
    "#include <stdio.h>\nint main(void) {\n    printf(\"%d\\n\", 0x7FFFFFFF);\n    return 0;\n}\n",
    "    fn parse(&mut self) -> Result<Token, Error> { self.pos += 1; Ok(Token::Eof) }\n",
    "x_train, x_test = train_test_split(data, test_size=0.2, random_state=1337)\n",
]
CJK = [
    "人工智能正在改变我们的生活方式，许多公司开始使用大型语言模型来处理文本。",
    "今天天气很好，我们一起去公园散步吧。明天可能会下雨。",
    "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。",
    "このライブラリは、大量のリクエストを一度に送信するためのものです。",
    "私はコーヒーが好きですが、朝は紅茶を飲むことが多いです。",
    "한국어는 한글이라는 고유한 문자를 사용합니다. 세종대왕이 창제했습니다.",
    "서울의 봄은 아름답고, 많은 사람들이 벚꽃을 보러 공원에 갑니다.",
    "机器学习模型需要大量的数据进行训练，数据质量非常重要。",
]
CYRILLIC = [
    "Москва — столица России, крупнейший по численности населения город страны.",
    "Пакетная обработка позволяет отправить тысячи запросов и получить результаты позже.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "В 2023 году выручка компании выросла на 12,5% по сравнению с прошлым годом.",
    "Київ — столиця України, одне з найстаріших міст Східної Європи.",
    "Зимой здесь очень холодно: температура опускается до минус сорока градусов.",
]
ARABIC = [
    "اللغة العربية هي إحدى أكثر اللغات انتشاراً في العالم، ويتحدث بها أكثر من 400 مليون شخص.",
    "يستخدم الذكاء الاصطناعي في مجالات عديدة مثل الطب والتعليم والنقل.",
    "القاهرة هي عاصمة جمهورية مصر العربية وأكبر مدنها.",
    "أرسل الطلبات دفعة واحدة واحصل على النتائج خلال أربع وعشرين ساعة.",
    "كان الطقس جميلاً أمس، لكن اليوم تمطر بغزارة.",
]
EMOJI = [
    "😀", "😂", "🥲", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸", "❤️", "🔥", "🚀", "✅", "🎉",
    "🧑🏿‍💻", "🤖", "☕", "🌍", "💯", "🙏🏻", "😅",
]
WORDS = ("batch request token model cache index parser stream buffer value result error "
         "status upload download merge split encode decode thread socket").split()
# weights of the paragraph kinds (English, code, CJK, Cyrillic, Arabic, emoji, digits)
KINDS = ["en", "code", "cjk", "cyr", "ar", "emoji", "digits"]
WEIGHTS = [30, 20, 15, 12, 10, 6, 7]


def _ws(rng):
    r = rng.random()
    if r < 0.55:
        return " "
    if r < 0.75:
        return "\n"
    if r < 0.85:
        return " " * rng.randint(2, 16)
    if r < 0.92:
        return "\n\n"
    if r < 0.97:
        return "\t" * rng.randint(1, 4)
    return rng.choice(["   \n", "\n    ", " \t \n\n", "\r\n", "\n\n\n\n"])


def _paragraph(rng, kind):
    parts = []
    for _ in range(rng.randint(1, 5)):
        if kind == "en":
            s = rng.choice(ENGLISH)
            if rng.random() < 0.4:
                s = s.replace("the", rng.choice(WORDS), 1)
        elif kind == "code":
            s = rng.choice(CODE)
            if rng.random() < 0.5:
                s = s.replace("i", "%s_%d" % (rng.choice(WORDS), rng.randint(0, 999)), 1)
        elif kind == "cjk":
            s = rng.choice(CJK)
        elif kind == "cyr":
            s = rng.choice(CYRILLIC)
        elif kind == "ar":
            s = rng.choice(ARABIC)
        elif kind == "emoji":
            s = "".join(rng.choice(EMOJI) + (" " if rng.random() < 0.3 else "")
                        for _ in range(rng.randint(1, 12)))
        else:
            s = rng.choice(["%d" % rng.randint(0, 10 ** rng.randint(1, 18)),
                            "%d.%02d" % (rng.randint(0, 99999), rng.randint(0, 99)),
                            "+1 (%03d) %03d-%04d" % (rng.randint(200, 999), rng.randint(0, 999),
                                                     rng.randint(0, 9999)),
                            "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
                                rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28),
                                rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))])
        if rng.random() < 0.25:
            s += " %d" % rng.randint(0, 100000)
        parts.append(s)
        parts.append(_ws(rng))
    parts.append("\n")
    return "".join(parts)


def write_text(path, size):
    """A deterministic mixed-language UTF-8 text of about `size` bytes (cut at a line end)."""
    rng = random.Random(13)
    total = 0
    with open(path, "wb") as f:
        buf, blen = [], 0
        while total + blen < size:
            p = _paragraph(rng, rng.choices(KINDS, WEIGHTS)[0]).encode()
            buf.append(p)
            blen += len(p)
            if blen >= 1 << 20:
                f.write(b"".join(buf))
                total += blen
                buf, blen = [], 0
        f.write(b"".join(buf))
        total += blen
    return total


def next_chunk(data, pos, chunk):
    """The same cut as tokenize_driver.c / tokenize_tiktoken.js."""
    if chunk == 0 or len(data) - pos <= chunk:
        return len(data)
    end = pos + chunk
    back = data.rfind(b"\n", pos, end)
    if back >= 0:
        return back + 1
    fwd = data.find(b"\n", end)
    return len(data) if fwd < 0 else fwd + 1


def write_prefix(src, dst, fraction):
    """The first whole pieces of `src` covering `fraction` of it (at least one)."""
    with open(src, "rb") as f:
        data = f.read()
    want, pos = len(data) * fraction, 0
    while pos < len(data):
        pos = next_chunk(data, pos, CHUNK)
        if pos >= want:
            break
    with open(dst, "wb") as f:
        f.write(data[:pos])
    return pos


def runs(argv, repeats):
    """repeats runs of a program that prints one JSON line per encoding -> {enc: [rows]}"""
    out = {}
    for _ in range(repeats):
        m = bl.measure(argv)
        for line in m.stdout.splitlines():
            r = json.loads(line)
            r["wall_s"], r["proc_cpu_s"] = m.wall_s, m.user_s + m.sys_s
            out.setdefault(r["encoding"], []).append(r)
    return out


def node_peer(lib, path, repeats):
    node = shutil.which("node")
    pkg = os.path.join(NODE_DIR, "node_modules", lib, "package.json")
    if not node or not os.path.exists(pkg):
        bl.log("fig08: %s missing (%s): its rows have no peer" % (lib, "no node" if not node else pkg))
        return None
    return runs([node, PEER, NODE_DIR, lib, path, CHUNK] + ENCODINGS, repeats)


def rate(rs, key):
    return bl.median([r[key] / r["seconds"] for r in rs])


def cpu_rate(rs):
    """tokens per CPU second of the timed loop (less sensitive to a busy machine)"""
    return bl.median([r["tokens"] / r["cpu_seconds"] for r in rs if r["cpu_seconds"] > 0])


def spread(rs):
    return ", ".join("%.2f" % r["seconds"] for r in rs)


def main():
    reps = bl.ENV.repeats
    driver = os.path.join(bl.ENV.build, "bench", "tokenize_driver")
    with bl.scratch("fig08-tokenizer") as scratch:
        text = os.path.join(scratch, "mixed.txt")
        size = write_text(text, SIZE)
        prefix = os.path.join(scratch, "prefix.txt")
        psize = write_prefix(text, prefix, JS_FRACTION)
        bl.log("fig08: %d bytes of text (js-tiktoken: first %d bytes), pieces of <= %d B, "
               "%d repeats" % (size, psize, CHUNK, reps))
        ob = runs([driver, text, CHUNK] + ENCODINGS, reps)
        ob_whole = runs([driver, text, 0] + ENCODINGS, 1)
        ob_prefix = runs([driver, prefix, CHUNK] + ENCODINGS, 1)
        bl.log("fig08: tiktoken (WASM)")
        tk = node_peer("tiktoken", text, reps)
        bl.log("fig08: js-tiktoken over the prefix")
        js = node_peer("js-tiktoken", prefix, reps)

    # The check: the same token count, per encoding, in every program (every run).
    for enc in ENCODINGS:
        want = ob[enc][0]["tokens"]
        got = [r["tokens"] for r in ob[enc]]
        if tk:
            got += [r["tokens"] for r in tk[enc]]
        if any(g != want for g in got):
            raise RuntimeError("fig08: %s token counts differ (obatch %d; all runs %s)"
                               % (enc, want, got))
        if js:
            pw = ob_prefix[enc][0]["tokens"]
            pg = [r["tokens"] for r in js[enc]]
            if any(g != pw for g in pg):
                raise RuntimeError("fig08: %s prefix token counts differ (obatch %d, "
                                   "js-tiktoken %s)" % (enc, pw, pg))

    mb = size / 1e6
    judged = bl.ENV.scale >= 0.1
    tk_name = "npm tiktoken %s (WASM), encode_ordinary" % (tk["o200k_base"][0]["version"]
                                                           if tk else "1.0.22 (missing)")
    js_name = "npm js-tiktoken %s, encode" % (js["o200k_base"][0]["version"] if js
                                              else "(missing)")
    for enc in ENCODINGS:
        o = ob[enc]
        o_tps, o_mbps = rate(o, "tokens"), rate(o, "bytes") / 1e6
        toks = o[0]["tokens"]
        whole = ob_whole[enc][0]
        op = ob_prefix[enc][0]
        cpu = bl.median([r["cpu_seconds"] / r["seconds"] for r in o])
        base = ("%.1f MB, %d tokens (%.2f B/token), %d pieces of <= 1 MB cut at line ends in "
                "every program; median of %d; one core (obatch CPU/wall %.2f)"
                % (mb, toks, size / toks, o[0]["chunks"], reps, cpu))
        if tk:
            t = tk[enc]
            t_tps, t_mbps = rate(t, "tokens"), rate(t, "bytes") / 1e6
            tnote = ("; same token count as obatch (checked); seconds per run obatch %s, "
                     "tiktoken %s; by CPU seconds instead of wall: %.3g vs %.3g tokens/s = "
                     "%.2fx; tiktoken load %.2f s (untimed)"
                     % (spread(o), spread(t), cpu_rate(o), cpu_rate(t),
                        cpu_rate(o) / cpu_rate(t), t[0]["init_seconds"]))
        else:
            t_tps = t_mbps = None
            tnote = "; tiktoken missing (npm install failed or no node)"
        bl.row(FIG, "%s tokens/s vs tiktoken" % enc, o_tps, t_tps, tk_name, True,
                   "> peer", (o_tps > t_tps) if (t_tps and judged) else None, base + tnote)
        bl.row(FIG, "%s MB/s vs tiktoken" % enc, o_mbps, t_mbps, tk_name, True, "> peer",
               (o_mbps > t_mbps) if (t_mbps and judged) else None,
               "whole text in one obatch call (not chunked): %.0f MB/s, %d tokens "
               "(the cut changes the count by %+d)"
               % (size / whole["seconds"] / 1e6, whole["tokens"], toks - whole["tokens"]))
        if js:
            j = js[enc]
            j_tps = rate(j, "tokens")
            jnote = ("js-tiktoken over the first %.1f MB only (%d pieces, ~%d%% of the text: "
                     "it is slow); same token count as obatch there (%d, checked); obatch's "
                     "rate over that prefix (1 run) %.3g tokens/s; js-tiktoken seconds per "
                     "run %s; by CPU seconds: %.3g vs %.3g tokens/s = %.1fx; ranks load %.2f s "
                     "(untimed)"
                     % (psize / 1e6, j[0]["chunks"], round(100 * psize / size), op["tokens"],
                        op["tokens"] / op["seconds"], spread(j), cpu_rate(o), cpu_rate(j),
                        cpu_rate(o) / cpu_rate(j), j[0]["init_seconds"]))
        else:
            j_tps = None
            jnote = "js-tiktoken missing (npm install failed or no node)"
        bl.row(FIG, "%s tokens/s vs js-tiktoken" % enc, o_tps, j_tps, js_name, True, "> peer",
               (o_tps > j_tps) if (j_tps and judged) else None,
               "obatch's rate over the whole text; " + jnote)


if __name__ == "__main__":
    main()
