'use strict';
// No call blocks the event loop, and an AbortSignal ends a call in progress
// (issue 18): a 10 ms ticker runs during every remote call against a server
// that never answers and against a refused port, and the call rejects with
// EABORTED within 100 ms of controller.abort().
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { codes, ObatchError, AbortError, listBatches, allBatches, retrieve, cancelBatch, checkFile, listJobs, pruneJobs,
  estimateFile } =
  require('..');

const BOUND_MS = 100;

// `n` chat request lines (JSONL), custom_ids PREFIX0, PREFIX1, ..., each
// asking `content`.
function requestLines(n, prefix, content) {
  const line = (i) =>
    JSON.stringify({ custom_id: `${prefix}${i}`, method: 'POST', url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] } });
  return Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n';
}

// Runs fn(dir) with a directory of its own, removed afterwards.
async function inTempDir(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obatch-node-abort-'));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A server that accepts connections and never answers; [url, close]. */
async function silentServer() {
  const sockets = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/v1`;
  return [url, () => {
    for (const s of sockets) s.destroy();
    server.close();
  }];
}

/** A loopback port nothing listens on: every try is refused, the call backs off. */
async function refusedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return [`http://127.0.0.1:${port}/v1`, () => {}];
}

const options = (url) => ({ provider: 'openai', baseUrl: url, apiKey: 'test-key', maxRetries: 8 });

const calls = {
  listBatches: (o, signal) => listBatches(o, { signal }),
  allBatches: async (o, signal) => {
    for await (const info of allBatches(o, { signal })) void info;
  },
  retrieve: (o, signal) => retrieve('batch_1', o, { signal }),
  cancelBatch: (o, signal) => cancelBatch('batch_1', o, { signal }),
};

for (const [name, call] of Object.entries(calls)) {
  for (const [kind, start] of [['silent server', silentServer], ['refused port', refusedPort]]) {
    test(`${name} on a ${kind}: the loop ticks, the signal ends it`, async () => {
      const [url, close] = await start();
      try {
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 10);
        const controller = new AbortController();
        let abortedAt = 0;
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 300);
        const err = await call(options(url), controller.signal).then(
          () => assert.fail('the call should not succeed'),
          (e) => e,
        );
        const took = performance.now() - abortedAt;
        clearInterval(ticker);
        assert.ok(abortedAt > 0, `returned before the abort: ${err && err.message}`);
        assert.ok(err instanceof ObatchError, String(err));
        assert.equal(err.code, 'EABORTED', err.message);
        assert.equal(err.errno, codes.EABORTED);
        assert.ok(err instanceof AbortError);
        assert.equal(err.cause && err.cause.name, 'AbortError');
        assert.ok(took <= BOUND_MS, `rejected ${took.toFixed(1)} ms after the abort`);
        // The loop ran while the call waited: a call that held it would let
        // the ticker fire at most once, after it. (Not 30 ticks: a loaded
        // machine, as CI with two jobs is, runs this process far less.)
        assert.ok(ticks >= 3, `the ticker ticked ${ticks} times`);
      } finally {
        close();
      }
    });
  }
}

test('an aborted signal rejects before anything is sent', async () => {
  const [url, close] = await silentServer();
  try {
    const signal = AbortSignal.abort();
    await assert.rejects(retrieve('batch_1', options(url), { signal }), (e) => e instanceof AbortError && e.code === 'EABORTED');
    await assert.rejects(retrieve('batch_1', options(url), { signal: 'no' }), TypeError);
  } finally {
    close();
  }
});

test('checkFile, listJobs and pruneJobs run off the main thread', async () => {
  await inTempDir(async (dir) => {
    const file = path.join(dir, 'in.jsonl');
    fs.writeFileSync(file, requestLines(20000, 'r', 'x'.repeat(200)));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const pending = checkFile(file, { provider: 'openai' });
    // The call has not run yet on this thread: the Promise is pending and
    // the loop goes on.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await pending;
    clearInterval(ticker);
    assert.equal(res.problemCount, 0);
    assert.equal(res.info.requestsAdded, 20000);
    assert.ok(ticks >= 1, `the ticker ticked ${ticks} times`);
    const state = path.join(dir, 'state');
    assert.deepEqual((await listJobs({ state })).jobs, []);
    assert.equal(await pruneJobs({ state }), 0);
  });
});

test('checkFile: an AbortSignal ends a long check', async () => {
  await inTempDir(async (dir) => {
    const file = path.join(dir, 'big.jsonl');
    const fd = fs.openSync(file, 'w');
    const chunk = requestLines(10000, 'r', 'y'.repeat(300));
    for (let k = 0; k < 40; k++) fs.writeSync(fd, chunk.replace(/"r(\d+)"/g, (_, n) => `"r${k}-${n}"`));
    fs.closeSync(fd);
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 20);
    const err = await checkFile(file, { provider: 'openai' }, { signal: controller.signal }).then(
      () => assert.fail('400,000 lines were checked within 20 ms'),
      (e) => e,
    );
    const took = performance.now() - abortedAt;
    assert.ok(err instanceof AbortError, String(err));
    assert.ok(took <= BOUND_MS, `rejected ${took.toFixed(1)} ms after the abort`);
  });
});

test('estimateFile runs off the main thread and ends on a signal', async () => {
  await inTempDir(async (dir) => {
    const file = path.join(dir, 'in.jsonl');
    fs.writeFileSync(file, requestLines(100, 'e', 'hello there'));
    const pending = estimateFile(file, { provider: 'openai' });
    let settled = false;
    pending.then(() => { settled = true; }, () => { settled = true; });
    assert.equal(settled, false); // nothing ran on this thread yet
    const est = await pending;
    assert.equal(est.total.requests, 100);
    await assert.rejects(estimateFile(file, { provider: 'openai' }, { signal: AbortSignal.abort() }), AbortError);
  });
});
