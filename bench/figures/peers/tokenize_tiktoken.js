#!/usr/bin/env node
// Figure 8's peers: node tokenize_tiktoken.js MODULES_DIR LIB FILE CHUNK_BYTES ENCODING...
//
// LIB is "tiktoken" (npm tiktoken: the Rust crate compiled to WASM;
// get_encoding(enc).encode_ordinary(text).length) or "js-tiktoken" (pure JS;
// new Tiktoken(its bundled ranks).encode(text, [], []).length: no special
// tokens allowed or disallowed, i.e. encode_ordinary), resolved from
// MODULES_DIR/node_modules. Reads FILE (not timed), cuts it into pieces of at most
// CHUNK_BYTES ending at a line end exactly as bench/drivers/tokenize_driver.c
// does (on the UTF-8 bytes: '\n' is never inside a multi-byte character), decodes
// each piece to a JS string (not timed) and times only the encode of every piece.
// Prints one JSON line per encoding, the same fields as tokenize_driver.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const [modulesDir, lib, file, chunkArg, ...encodings] = process.argv.slice(2);
if (!encodings.length) {
  console.error("usage: tokenize_tiktoken.js MODULES_DIR tiktoken|js-tiktoken FILE CHUNK_BYTES ENCODING...");
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(modulesDir), "package.json"));

function nextChunk(buf, pos, chunk) {
  const len = buf.length;
  if (chunk === 0 || len - pos <= chunk) return len;
  const end = pos + chunk;
  const back = buf.lastIndexOf(0x0a, end - 1);
  if (back >= pos) return back + 1;
  const fwd = buf.indexOf(0x0a, end);
  return fwd < 0 ? len : fwd + 1;
}

const buf = fs.readFileSync(file);
const chunk = Number(chunkArg);
const pieces = [];
for (let pos = 0; pos < buf.length;) {
  const end = nextChunk(buf, pos, chunk);
  pieces.push(buf.toString("utf8", pos, end));
  pos = end;
}

function loader(name) {
  if (lib === "tiktoken") {
    const enc = req("tiktoken").get_encoding(name);
    return { count: (t) => enc.encode_ordinary(t).length, free: () => enc.free() };
  }
  if (lib === "js-tiktoken") {
    const { Tiktoken } = req("js-tiktoken/lite");
    const ranks = req("js-tiktoken/ranks/" + name);
    const enc = new Tiktoken(ranks.default || ranks);
    return { count: (t) => enc.encode(t, [], []).length, free: () => {} };
  }
  throw new Error("unknown LIB " + lib);
}

for (const name of encodings) {
  const i0 = process.hrtime.bigint();
  const enc = loader(name);
  enc.count("hello world");
  const i1 = process.hrtime.bigint();
  let total = 0, first = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < pieces.length; k++) {
    const n = enc.count(pieces[k]);
    if (k === 0) first = n;
    total += n;
  }
  const t1 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  enc.free();
  console.log(JSON.stringify({
    encoding: name, bytes: buf.length, chunks: pieces.length, tokens: total,
    first_chunk_tokens: first, seconds: Number(t1 - t0) / 1e9,
    cpu_seconds: (c.user + c.system) / 1e6, init_seconds: Number(i1 - i0) / 1e9,
    version: JSON.parse(fs.readFileSync(
      path.join(modulesDir, "node_modules", lib, "package.json"), "utf8")).version,
  }));
}
