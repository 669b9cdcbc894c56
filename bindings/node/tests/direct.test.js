'use strict';
// Direct mode, the same in Node, Go and Ruby: each request sent as a normal
// request to a server with no Batch API; every result read back by
// custom_id in input order, the one the server refuses in the error file;
// "auto" choosing each mode on each side of directBelow; an rpm equal to
// the server's limit meeting no 429.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Batch, ObatchError, codes } = require('..');
const { FakeServer, chat } = require('./fake_server');

const DIRECT_FIELDS = [
  'mode', 'modeReason', 'requestsInFlight', 'requestsRetried', 'responses429', 'requestsPerMinute',
  'tokensPerMinute', 'rpmLimit', 'tpmLimit',
];

/** The texts of d1..dn; those whose number is in `fail` contain "FAIL400" (the server answers 400). */
function texts(n, fail = new Set()) {
  return Array.from({ length: n }, (_, i) => `direct ${i + 1}${fail.has(i + 1) ? ' FAIL400' : ''}`);
}

/** Adds d1..dn with `sent`, submits and waits; resolves with the final info and every progress info. */
async function run(t, server, sent, options) {
  const batch = new Batch(server.options(options));
  t.after(() => batch.close());
  sent.forEach((text, i) => batch.add(chat(text), { customId: `d${i + 1}` }));
  await batch.submit();
  const seen = [];
  const info = await batch.wait({ onProgress: (i) => seen.push(i), timeoutMs: 30000 });
  return { batch, info, seen };
}

/**
 * Every result: each custom_id once, in input order; `fail` ones are 400s; successes echo
 * their text (direct) or, from the fake's batches, their custom_id (echo 'customId').
 */
async function checkResults(batch, sent, fail = new Set(), echo = 'text') {
  const results = [];
  for await (const r of batch.results()) results.push(r);
  assert.deepEqual(results.map((r) => r.customId), sent.map((_, i) => `d${i + 1}`));
  assert.deepEqual(results.map((r) => r.index), sent.map((_, i) => i));
  results.forEach((r, i) => {
    if (fail.has(i + 1)) {
      assert.equal(r.kind, 'http_error', `${r.customId}: ${r.line}`);
      assert.equal(r.ok, false);
      assert.equal(r.statusCode, 400, `${r.customId}: ${r.line}`);
      return;
    }
    assert.equal(r.kind, 'succeeded', `${r.customId}: ${r.line}`);
    assert.equal(r.statusCode, 200);
    const want = echo === 'text' ? sent[i] : `d${i + 1}`;
    assert.equal(r.body.choices[0].message.content, `echo: ${want}`, r.customId);
  });
  return results;
}

function lines(path) {
  return fs.readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

test('mode direct against a server with no Batch API: 12 requests, one refused with 400', async (t) => {
  const server = await FakeServer.start({ no_batch_api: true, direct_latency_ms: 60, direct_jitter_ms: 60 });
  t.after(() => server.stop());
  const fail = new Set([7]);
  const sent = texts(12, fail);
  const { batch, info, seen } = await run(t, server, sent, { mode: 'direct', concurrency: 4 });

  for (const key of DIRECT_FIELDS) assert.ok(key in info, `info.${key}`);
  assert.equal(info.mode, 'direct');
  assert.equal(typeof info.modeReason, 'string');
  assert.ok(info.modeReason.length > 0, 'modeReason is empty');
  assert.equal(info.phase, 'done');
  assert.equal(info.remoteStatus, 'completed');
  assert.equal(info.batchId, '');
  assert.equal(info.inputFileId, '');
  assert.equal(info.requestsAdded, 12);
  assert.equal(info.requestsCompleted, 11);
  assert.equal(info.requestsFailed, 1);
  assert.equal(info.requestsInFlight, 0);
  assert.equal(info.requestsRetried, 0); // a 400 is final
  assert.equal(info.responses429, 0);
  assert.equal(info.rpmLimit, 0); // neither the options nor the server set one
  assert.equal(info.tpmLimit, 0);
  assert.equal(info.requestsPerMinute, 12); // all sent within the last minute, none again
  assert.ok(info.tokensPerMinute > 0, `tokensPerMinute ${info.tokensPerMinute}`);

  // Progress was reported while the requests were out, never more than 4 at once.
  assert.ok(seen.length >= 2, `${seen.length} progress calls`);
  assert.equal(seen.at(-1).requestsCompleted, 11);
  for (const i of seen) {
    assert.ok(i.requestsInFlight <= 4, `requestsInFlight ${i.requestsInFlight}`);
    if (i.phase === 'waiting') assert.equal(i.mode, 'direct');
  }
  const done = seen.map((i) => i.requestsCompleted + i.requestsFailed);
  for (let k = 1; k < done.length; k++) assert.ok(done[k] >= done[k - 1], `done ${done}`);
  assert.ok(
    seen.some((i) => i.requestsInFlight > 0 || (i.requestsCompleted > 0 && i.requestsCompleted < 11)),
    `no progress while sending: ${seen.map((i) => `${i.phase}/${i.requestsInFlight}/${i.requestsCompleted}`)}`,
  );

  await checkResults(batch, sent, fail);
  const refused = batch.lookup('d7');
  assert.equal(refused.statusCode, 400);
  assert.equal(refused.kind, 'http_error');
  assert.equal(batch.lookup('d12').body.choices[0].message.content, 'echo: direct 12');

  // The files have the Batch API's format: 2xx to the output, the rest to the errors.
  assert.ok(info.outputPath, 'no outputPath');
  assert.ok(info.errorPath, 'no errorPath');
  const out = lines(info.outputPath).map((l) => JSON.parse(l));
  const err = lines(info.errorPath).map((l) => JSON.parse(l));
  assert.equal(out.length, 11);
  assert.equal(err.length, 1);
  assert.equal(err[0].custom_id, 'd7');
  assert.equal(err[0].response.status_code, 400);
  assert.ok(!out.some((l) => l.custom_id === 'd7'));

  // The usage is the answers' own; the job is one part.
  assert.ok(info.inputTokens > 0, `inputTokens ${info.inputTokens}`);
  assert.equal(info.inputTokens, out.reduce((n, l) => n + l.response.body.usage.prompt_tokens, 0));
  assert.equal(info.outputTokens, out.reduce((n, l) => n + l.response.body.usage.completion_tokens, 0));
  assert.equal(info.totalTokens, info.inputTokens + info.outputTokens);
  assert.deepEqual([info.partsTotal, info.partsSubmitted, info.partsEnded, info.partsRunning], [1, 1, 1, 0]);

  // One normal request each, 4 at most at once, nothing uploaded.
  const stats = await server.stats();
  assert.equal(stats.direct_requests, 12);
  const peak = stats.direct_in_flight_peak;
  assert.ok(peak >= 2 && peak <= 4, `in flight at the server at most ${peak}`);
  assert.equal(stats.uploads, 0);
  assert.equal(stats.batches_created, 0);
});

test('mode auto with directBelow 5: 3 requests run direct, 6 run as a batch', async (t) => {
  await t.test('3 requests, no Batch API: direct', async (t) => {
    const server = await FakeServer.start({ no_batch_api: true });
    t.after(() => server.stop());
    const sent = texts(3);
    const { batch, info } = await run(t, server, sent, { mode: 'auto', directBelow: 5 });
    assert.equal(info.mode, 'direct');
    assert.ok(info.modeReason.length > 0, 'modeReason is empty');
    assert.equal(info.phase, 'done');
    assert.equal(info.batchId, '');
    assert.equal(info.requestsCompleted, 3);
    assert.equal(info.requestsFailed, 0);
    await checkResults(batch, sent);
    assert.equal((await server.stats()).direct_requests, 3);
  });

  await t.test('6 requests, Batch API on: a batch', async (t) => {
    const server = await FakeServer.start({ steps: 1 });
    t.after(() => server.stop());
    const sent = texts(6);
    const { batch, info } = await run(t, server, sent, { mode: 'auto', directBelow: 5 });
    assert.equal(info.mode, 'batch');
    assert.ok(info.modeReason.length > 0, 'modeReason is empty');
    assert.equal(info.phase, 'done');
    assert.equal(info.remoteStatus, 'completed');
    assert.match(info.batchId, /^batch_/);
    assert.equal(info.requestsCompleted, 6);
    assert.equal(info.requestsInFlight, 0);
    await checkResults(batch, sent, new Set(), 'customId');
    const stats = await server.stats();
    assert.equal(stats.batches_created, 1);
    assert.equal(stats.direct_requests, 0);
  });
});

test('rpm at the server limit: 10 requests meet no 429', async (t) => {
  const server = await FakeServer.start({ no_batch_api: true, direct_rpm: 600 });
  t.after(() => server.stop());
  const sent = texts(10);
  const { batch, info } = await run(t, server, sent, { mode: 'direct', rpm: 600 });
  assert.equal(info.mode, 'direct');
  assert.equal(info.phase, 'done');
  assert.equal(info.requestsCompleted, 10);
  assert.equal(info.responses429, 0);
  assert.equal(info.requestsRetried, 0);
  // The limit followed: the lower of the option and the server's x-ratelimit-limit-requests.
  assert.ok(info.rpmLimit > 0 && info.rpmLimit <= 600, `rpmLimit ${info.rpmLimit}`);
  assert.equal(info.tpmLimit, 0); // no tpm anywhere
  assert.equal(info.requestsPerMinute, 10);
  await checkResults(batch, sent);
  const stats = await server.stats();
  assert.equal(stats.direct_429s, 0);
  assert.equal(stats.direct_requests, 10);
});

test("the server's x-ratelimit-limit-requests lowers a higher rpm", async (t) => {
  const server = await FakeServer.start({ no_batch_api: true, direct_rpm: 600 });
  t.after(() => server.stop());
  const { info } = await run(t, server, texts(4), { mode: 'direct', rpm: 6000 });
  assert.equal(info.requestsCompleted, 4);
  assert.equal(info.rpmLimit, 600);
});

test('a finished direct job submitted again: nothing sent again, the same counts and usage', async (t) => {
  const server = await FakeServer.start({ no_batch_api: true });
  t.after(() => server.stop());
  const state = path.join(server.tmp, 'state', 'jobs.db');
  const fail = new Set([2]);
  const sent = texts(3, fail);
  const first = (await run(t, server, sent, { mode: 'direct', state })).info;
  const { batch, info } = await run(t, server, sent, { mode: 'direct', state });
  assert.equal(first.requestsCompleted, 2);
  assert.equal(first.requestsFailed, 1);
  assert.ok(first.inputTokens > 0);
  assert.equal(info.jobId, first.jobId);
  for (const key of ['requestsCompleted', 'requestsFailed', 'inputTokens', 'outputTokens', 'totalTokens'])
    assert.equal(info[key], first[key], key);
  await checkResults(batch, sent, fail);
  assert.equal((await server.stats()).direct_requests, 3);
});

test('direct-mode options: a bad mode or concurrency is ECONFIG', () => {
  for (const options of [{ mode: 'fast' }, { concurrency: 0 }, { deadline: 'soon' }]) {
    assert.throws(
      () => new Batch({ provider: 'openai', apiKey: 'k', ...options }),
      (err) => err instanceof ObatchError && err.code === 'ECONFIG',
      JSON.stringify(options),
    );
  }
});
