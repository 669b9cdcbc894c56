'use strict';
// Leak check: rounds of create / add / info / destroy must not grow the
// process. A leaked handle costs about 10 kB of RSS (measured: 10000 kept
// batches grow it by ~100 MB), so a growth under LIMIT_MB over ROUNDS rounds
// says no handle leaks. Small leaks (a string a round) are valgrind's job:
// see README.md ("Leak check").
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROUNDS = Number(process.env.OBATCH_LEAK_ROUNDS || 3000);
const LIMIT_MB = 16;

function run(mode) {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', path.join(__dirname, 'leak_child.js'), String(ROUNDS), mode],
    { encoding: 'utf8', env: process.env, timeout: 240000 },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

for (const mode of ['close', 'gc']) {
  test(`create/add/destroy x${ROUNDS} (${mode === 'close' ? 'close()' : 'FinalizationRegistry'}) does not grow RSS`, (t) => {
    const { rss0, rss1 } = run(mode);
    const growthMb = (rss1 - rss0) / 2 ** 20;
    t.diagnostic(`${mode}: RSS ${(rss0 / 2 ** 20).toFixed(1)} MB -> ${(rss1 / 2 ** 20).toFixed(1)} MB ` +
      `after ${ROUNDS} rounds (${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(1)} MB)`);
    assert.ok(growthMb < LIMIT_MB, `RSS grew by ${growthMb.toFixed(1)} MB over ${ROUNDS} rounds`);
  });
}
