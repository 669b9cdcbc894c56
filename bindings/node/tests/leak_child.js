'use strict';
// Run by leak.test.js as `node --expose-gc tests/leak_child.js N MODE`:
// N rounds of create / add (one good, one bad request) / info / destroy, and
// prints {rss0, rss1} in bytes after a warm-up round and after the N rounds.
// MODE "close" calls close(); "gc" drops the batches and lets the
// FinalizationRegistry free them.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Batch } = require('..');

const n = Number(process.argv[2] || 2000);
const mode = process.argv[3] || 'close';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obatch-node-leak-'));
const kept = [];
const body = { messages: [{ role: 'user', content: 'x'.repeat(200) }] };

async function settle() {
  for (let k = 0; k < 4; k++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve)); // FinalizationRegistry callbacks
  }
}

function round(i) {
  const b = new Batch({ provider: 'openai', apiKey: 'k', model: 'gpt-4o-mini', workDir: dir,
    metadata: { round: String(i) } });
  b.add(body, { customId: `c${i}` });
  try {
    b.add('{"bad json', { customId: 'bad' });
  } catch {
    // EJSON, expected
  }
  b.info();
  if (mode === 'close') b.close();
  else if (mode === 'keep') kept.push(b); // a leak on purpose: what the test must notice
}

async function rounds(count) {
  for (let i = 0; i < count; i++) {
    round(i);
    if (i % 500 === 499) {
      await settle();
      // The input files are the library's, not memory: keep /tmp small.
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    }
  }
  await settle();
}

(async () => {
  try {
    await rounds(Math.min(n, 1000)); // warm-up: allocator pools, JIT, V8 heap
    const rss0 = process.memoryUsage().rss;
    await rounds(n);
    const rss1 = process.memoryUsage().rss;
    console.log(JSON.stringify({ n, mode, rss0, rss1 }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
