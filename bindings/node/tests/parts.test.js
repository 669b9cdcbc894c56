'use strict';
// Jobs of several batches ("parts"), the same in Node, Go and Ruby: an input
// over the server's 3 requests per file, with maxRequests 3, runs as 4
// batches of 3, 3, 3 and 1; every result comes back in input order; each
// part has its own batch; a job of one batch has one part.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Batch, checkFile, listJobs } = require('..');
const { FakeServer, chat } = require('./fake_server');

const PART_FIELDS = [
  'index', 'phase', 'phaseCode', 'model', 'batchId', 'remoteStatus', 'requestsAdded', 'requestsTotal',
  'requestsCompleted', 'requestsFailed', 'bytesTotal', 'tokensEstimated', 'errorMessage',
];
const IDS = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);

test('10 requests with maxRequests 3: a job of 4 batches, results in input order', async (t) => {
  const server = await FakeServer.start({ steps: 1, max_requests_per_file: 3 });
  t.after(() => server.stop());
  const state = path.join(server.tmp, 'state', 'jobs.db');
  const batch = new Batch(server.options({ maxRequests: 3, state }));
  t.after(() => batch.close());
  for (const id of IDS) batch.add(chat(`part ${id}`), { customId: id });
  assert.deepEqual(batch.parts(), [], 'no parts before submit');

  const submitted = await batch.submit();
  assert.equal(submitted.partsTotal, 4);
  const seen = [];
  const info = await batch.wait({ onProgress: (i) => seen.push(i.partsEnded) });

  assert.equal(info.phase, 'done');
  assert.equal(info.remoteStatus, 'completed');
  assert.equal(info.batchId, ''); // the job's: see parts()
  assert.equal(info.partsTotal, 4);
  assert.equal(info.partsSubmitted, 4);
  assert.equal(info.partsEnded, 4);
  assert.equal(info.partsFailed, 0);
  assert.equal(info.partsRunning, 0);
  assert.equal(info.tokensEnqueued, 0);
  assert.ok(info.tokensEstimated > 0, `tokensEstimated ${info.tokensEstimated}`);
  assert.equal(info.requestsAdded, 10);
  assert.equal(info.requestsTotal, 10);
  assert.equal(info.requestsCompleted, 10);
  assert.equal(seen.at(-1), 4);
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k] >= seen[k - 1], `partsEnded ${seen}`);

  // Every result, fetched in input order, from the one merged output.
  const results = [];
  for await (const r of batch.results()) results.push(r);
  assert.deepEqual(results.map((r) => r.customId), IDS);
  assert.deepEqual(results.map((r) => r.index), IDS.map((_, i) => i));
  assert.ok(results.every((r) => r.ok), results.map((r) => r.kind).join(','));
  assert.equal(batch.lookup('p10').index, 9);
  const lines = fs.readFileSync(info.outputPath, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => JSON.parse(l).custom_id), IDS);

  // Each part: its own batch, its requests.
  const parts = batch.parts();
  assert.equal(parts.length, 4);
  assert.deepEqual(parts.map((p) => p.index), [0, 1, 2, 3]);
  assert.deepEqual(parts.map((p) => p.requestsAdded), [3, 3, 3, 1]);
  for (const p of parts) {
    assert.deepEqual(Object.keys(p).sort(), [...PART_FIELDS].sort());
    assert.match(p.batchId, /^batch_/);
    assert.equal(p.phase, 'done');
    assert.equal(p.remoteStatus, 'completed');
    assert.equal(p.model, 'gpt-4o-mini');
    assert.equal(p.requestsCompleted, p.requestsAdded);
    assert.equal(p.requestsFailed, 0);
    assert.ok(p.bytesTotal > 0 && p.tokensEstimated > 0);
  }
  assert.equal(new Set(parts.map((p) => p.batchId)).size, 4, 'four distinct batches');
  assert.equal(parts.reduce((n, p) => n + p.tokensEstimated, 0), info.tokensEstimated);
  const stats = await server.stats();
  assert.equal(stats.batches_created, 4);
  assert.equal(stats.uploads, 4);
  const remote = (await server.batches()).map((b) => b.id).sort();
  assert.deepEqual(remote, parts.map((p) => p.batchId).sort());

  // The journal's job lists the same batches.
  const { jobs } = await listJobs({ state });
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].parts, 4);
  const listed = JSON.parse(jobs[0].partsJson);
  assert.deepEqual(listed.map((p) => p.batch_id), parts.map((p) => p.batchId));
  assert.deepEqual(listed.map((p) => p.requests), [3, 3, 3, 1]);
});

test('a job of one batch reports partsTotal 1; its one part is the job', async (t) => {
  const server = await FakeServer.start({ steps: 1, max_requests_per_file: 3 });
  t.after(() => server.stop());
  const batch = new Batch(server.options({ maxRequests: 3 }));
  t.after(() => batch.close());
  for (const id of ['s1', 's2', 's3']) batch.add(chat(`single ${id}`), { customId: id });
  await batch.submit();
  const info = await batch.wait();
  assert.equal(info.partsTotal, 1);
  assert.equal(info.partsEnded, 1);
  assert.equal(info.partsFailed, 0);
  assert.match(info.batchId, /^batch_/);
  const parts = batch.parts();
  assert.equal(parts.length, 1);
  assert.equal(parts[0].batchId, info.batchId);
  assert.equal(parts[0].requestsAdded, 3);
  assert.equal(parts[0].phase, 'done');
  assert.deepEqual([...batch.resultsSync()].map((r) => r.customId), ['s1', 's2', 's3']);
  assert.equal((await server.stats()).batches_created, 1);
});

test('checkFile: the parts submitting a file would make', async (t) => {
  const server = await FakeServer.start();
  t.after(() => server.stop());
  const file = path.join(server.tmp, 'in.jsonl');
  const line = (id) =>
    JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: chat(`check ${id}`) });
  fs.writeFileSync(file, IDS.map(line).join('\n') + '\n');
  const check = await checkFile(file, server.options({ maxRequests: 3 }));
  assert.equal(check.problemCount, 0, JSON.stringify(check.problems));
  assert.equal(check.info.partsTotal, 4);
  assert.deepEqual(check.parts.map((p) => p.requestsAdded), [3, 3, 3, 1]);
  assert.deepEqual(check.parts.map((p) => p.index), [0, 1, 2, 3]);
  for (const p of check.parts) {
    assert.equal(p.model, 'gpt-4o-mini');
    assert.equal(p.batchId, '');
    assert.ok(p.bytesTotal > 0 && p.tokensEstimated > 0);
  }
  const one = await checkFile(file, server.options({ split: 'off' }));
  assert.equal(one.info.partsTotal, 1);
});
