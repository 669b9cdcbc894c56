'use strict';
// The job journal through the binding, against the fake server, with a
// journal of the test's own (the suite runs with OBATCH_STATE=off): the same
// input submitted again resumes its job instead of paying twice, the journal
// lists and prunes its jobs, and an expired job's missing requests become a
// batch of their own.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Batch, ObatchError, codes, listJobs, pruneJobs, jobOrigins } = require('..');
const { FakeServer, chat } = require('./fake_server');

const JOB_FIELDS = [
  'id', 'step', 'provider', 'baseUrl', 'endpoint', 'model', 'sourcePath', 'inputSha256', 'inputFileId',
  'batchId', 'remoteStatus', 'outputFileId', 'errorFileId', 'outputPath', 'errorPath', 'errorMessage',
  'retryOf', 'requests', 'inputBytes', 'createdAt', 'updatedAt', 'running', 'pid', 'parts', 'partsJson',
];

/** Builds, submits and waits for the same three requests; returns the final info and results. */
async function runThree(options) {
  const batch = new Batch(options);
  try {
    for (const id of ['j1', 'j2', 'j3']) batch.add(chat(`journal ${id}`), { customId: id });
    const submitted = await batch.submit();
    const info = await batch.wait();
    return { submitted, info, results: [...batch.resultsSync()] };
  } finally {
    batch.close();
  }
}

test('jobOrigins are the C enum in order', () => {
  const raw = require('../lib/addon');
  assert.deepEqual(Object.fromEntries(jobOrigins.map((name, i) => [name, i])), {
    none: raw.OBATCH_JOB_NONE,
    new: raw.OBATCH_JOB_NEW,
    resumed: raw.OBATCH_JOB_RESUMED,
    following: raw.OBATCH_JOB_FOLLOWING,
    adopted: raw.OBATCH_JOB_ADOPTED,
  });
});

test('the same input again resumes its job (one batch); the journal lists it, prune forgets it', async (t) => {
  const server = await FakeServer.start({ steps: 1 });
  t.after(() => server.stop());
  const state = path.join(server.tmp, 'state', 'jobs.db');
  const options = server.options({ state });

  const first = await runThree(options);
  assert.equal(first.info.jobOrigin, 'new');
  assert.match(first.info.jobId, /^[0-9a-f]{24}$/);
  assert.equal(first.info.journalPath, state);

  // The first handle is closed and its job done: the second submit takes
  // that job up and downloads its results again, without a second batch.
  const second = await runThree(options);
  assert.equal(second.submitted.jobOrigin, 'resumed');
  assert.equal(second.info.jobOrigin, 'resumed');
  assert.equal(second.info.jobId, first.info.jobId);
  assert.equal(second.info.batchId, first.info.batchId);
  assert.deepEqual(second.results.map((r) => `${r.customId}:${r.kind}`), ['j1:succeeded', 'j2:succeeded', 'j3:succeeded']);
  const stats = await server.stats();
  assert.equal(stats.batches_created, 1);
  assert.equal(stats.uploads, 1);

  const listed = await listJobs({ state });
  assert.equal(listed.journalPath, state);
  assert.equal(listed.jobs.length, 1);
  const job = listed.jobs[0];
  assert.deepEqual(Object.keys(job).sort(), [...JOB_FIELDS].sort());
  assert.equal(job.id, first.info.jobId);
  assert.equal(job.step, 'done');
  assert.equal(job.provider, 'openai');
  assert.equal(job.baseUrl, server.baseUrl);
  assert.equal(job.endpoint, '/v1/chat/completions');
  assert.equal(job.model, 'gpt-4o-mini');
  assert.equal(job.sourcePath, ''); // added by add(), not from a file
  assert.match(job.inputSha256, /^[0-9a-f]{64}$/);
  assert.equal(job.inputFileId, first.info.inputFileId);
  assert.equal(job.batchId, first.info.batchId);
  assert.equal(job.remoteStatus, 'completed');
  assert.equal(job.outputFileId, first.info.outputFileId);
  assert.ok(fs.existsSync(job.outputPath), `output file ${job.outputPath}`);
  assert.equal(job.errorMessage, '');
  assert.equal(job.retryOf, '');
  assert.equal(job.requests, 3);
  assert.equal(job.inputBytes, first.info.bytesTotal);
  assert.ok(job.createdAt > 1600000000 && job.updatedAt >= job.createdAt);
  assert.equal(job.running, false);
  assert.equal(job.pid, 0);
  assert.equal(job.parts, 0); // one batch: batchId
  assert.equal(job.partsJson, '[]');

  assert.equal(await pruneJobs({ state }), 1);
  assert.deepEqual((await listJobs({ state })).jobs, []);
  assert.equal(await pruneJobs({ state }), 0);
  await assert.rejects(listJobs({ state: 'off' }), (e) => e instanceof ObatchError && e.code === 'ESTATE');
});

test('retryMissing: an expired job\'s missing requests become a batch of just those', async (t) => {
  const server = await FakeServer.start({ steps: 0, final_status: 'expired', partial_fraction: 0.5 });
  t.after(() => server.stop());
  const state = path.join(server.tmp, 'state', 'jobs.db');
  const options = server.options({ state });
  const input = path.join(server.tmp, 'input.jsonl');
  const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
  fs.writeFileSync(
    input,
    ids.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: chat(id) }))
      .join('\n') + '\n',
  );

  const batch = new Batch(options);
  batch.addFile(input);
  await batch.submit();
  const err = await batch.wait().then(() => assert.fail('wait resolved for an expired batch'), (e) => e);
  assert.equal(err.codeName, 'EEXPIRED', err.message);
  const jobId = err.info.jobId;
  const missing = [...batch.resultsSync()].filter((r) => r.kind === 'missing').map((r) => r.customId);
  batch.close();
  assert.ok(missing.length > 0 && missing.length < ids.length, `missing: ${missing}`);

  await server.config({ final_status: 'completed' });
  const retry = Batch.retryMissing(jobId, options);
  t.after(() => retry.close());
  assert.equal(retry.info().phase, 'building');
  assert.equal(retry.info().requestsAdded, missing.length);
  await retry.submit();
  const info = await retry.wait();
  assert.equal(info.jobOrigin, 'new');
  assert.notEqual(info.jobId, jobId);
  const results = [...retry.resultsSync()];
  assert.deepEqual(results.map((r) => r.customId), missing);
  assert.ok(results.every((r) => r.ok));
  assert.equal((await server.stats()).batches_created, 2);

  // Newest first: the retry names the job it retried.
  const { jobs } = await listJobs({ state });
  assert.deepEqual(jobs.map((j) => j.id), [info.jobId, jobId]);
  assert.equal(jobs[0].retryOf, jobId);
  assert.equal(jobs[0].requests, missing.length);
  assert.equal(jobs[1].sourcePath, fs.realpathSync(input));
  assert.equal(jobs[1].remoteStatus, 'expired');

  // The library's own message comes through.
  assert.throws(
    () => Batch.retryMissing(info.jobId, options),
    (e) => e instanceof ObatchError && e.code === 'ESTATE' && /nothing to retry/.test(e.message),
  );
  assert.throws(
    () => Batch.retryMissing('ffffffffffff', options),
    (e) => e instanceof ObatchError && e.codeName === 'ENOTFOUND' && /no job ffffffffffff/.test(e.message),
  );
  assert.throws(() => Batch.retryMissing(42, options), TypeError);
});
