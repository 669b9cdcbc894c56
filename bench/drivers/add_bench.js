'use strict';
// Figure 6 of issue 6 (bench/figures/06_bindings.py): times Batch.add of every body in
// BODIES_FILE (one JSON text per line, read first) through the Node binding; no network.
//   OBATCH_NODE_ADDON=<build>/bindings/node/Release/obatch.node \
//     node add_bench.js <repo>/bindings/node BODIES_FILE WORK_DIR
// Prints {"requests":N,"seconds":S,"per_s":R}.
const fs = require('node:fs');
const [bindingDir, bodiesFile, workDir] = process.argv.slice(2);
const { Batch } = require(bindingDir);
const bodies = fs.readFileSync(bodiesFile, 'utf8').split('\n').filter((l) => l.length > 0);
// 50,000 per batch (OpenAI's limit); batches made and closed outside the timing.
let spent = 0n;
for (let start = 0; start < bodies.length; start += 50000) {
  const batch = new Batch({ provider: 'openai', workDir });
  const end = Math.min(start + 50000, bodies.length);
  const t0 = process.hrtime.bigint();
  for (let i = start; i < end; i++) batch.add(bodies[i]);
  spent += process.hrtime.bigint() - t0;
  batch.close();
}
const s = Number(spent) / 1e9;
console.log(JSON.stringify({ requests: bodies.length, seconds: s, per_s: bodies.length / s }));
