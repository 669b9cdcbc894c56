'use strict';
// The end-to-end scenario (the same in Node, Go and Ruby) against the local
// fake Batch server: build a batch, submit, wait with progress, read every
// result by custom_id, one line failing; and a batch that expires, with some
// requests MISSING.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Batch, ObatchError, codes, listBatches } = require('..');
const { FakeServer, chat, sleep } = require('./fake_server');

test('a batch runs end to end: progress, results by custom_id, one failing line', async (t) => {
  const server = await FakeServer.start({ steps: 2, fail_custom_ids: ['q3'] });
  t.after(() => server.stop());
  const batch = new Batch(server.options({ model: 'gpt-4o-mini', metadata: { project: 'node-test' } }));
  t.after(() => batch.close());

  // Objects (model filled in by the binding), JSON text, generated ids.
  assert.equal(batch.add({ messages: [{ role: 'user', content: 'one' }] }, { customId: 'q1' }), 'q1');
  assert.equal(batch.add(JSON.stringify(chat('two')), { customId: 'q2' }), 'q2');
  assert.equal(batch.add({ messages: [{ role: 'user', content: 'three' }] }, { customId: 'q3' }), 'q3');
  assert.equal(batch.add('{"messages":[{"role":"user","content":"four"}]}', { customId: 'q4' }), 'q4');
  assert.equal(batch.add(chat('five')), 'request-5');
  assert.equal(batch.info().phase, 'building');
  assert.equal(batch.info().requestsAdded, 5);
  assert.match(batch.inputPath, /\.jsonl$/);

  const submitted = await batch.submit();
  assert.equal(submitted.requestsAdded, 5);

  // The event loop is never blocked while the batch runs.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  const seen = [];
  let info;
  try {
    info = await batch.wait({ onProgress: (i) => seen.push(i) });
  } finally {
    clearInterval(ticker);
  }
  assert.ok(ticks > 3, `the event loop ran while waiting (${ticks} ticks)`);

  assert.equal(info.phase, 'done');
  assert.equal(info.remoteStatus, 'completed');
  assert.match(info.batchId, /^batch_/);
  assert.equal(info.provider, 'openai');
  assert.equal(info.endpoint, '/v1/chat/completions');
  assert.equal(info.model, 'gpt-4o-mini');
  assert.equal(info.requestsTotal, 5);
  assert.equal(info.requestsCompleted, 4);
  assert.equal(info.requestsFailed, 1);
  assert.notEqual(info.outputPath, '');
  assert.notEqual(info.errorPath, '');
  assert.equal(JSON.parse(info.batchJson).metadata.project, 'node-test');

  // onProgress got plain info objects, and saw the batch move along.
  assert.ok(seen.length >= 2, `progress reported ${seen.length} times`);
  assert.equal(seen.at(-1).phase, 'done');
  assert.ok(seen.some((i) => i.phase === 'waiting' || i.remoteStatus === 'in_progress'));
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k].phaseCode >= seen[k - 1].phaseCode);

  // Every result, in input order.
  const results = [];
  for await (const r of batch.results()) results.push(r);
  assert.deepEqual(results.map((r) => r.customId), ['q1', 'q2', 'q3', 'q4', 'request-5']);
  assert.deepEqual(results.map((r) => r.index), [0, 1, 2, 3, 4]);
  for (const r of results.filter((x) => x.customId !== 'q3')) {
    assert.equal(r.kind, 'succeeded');
    assert.equal(r.ok, true);
    assert.equal(r.statusCode, 200);
    assert.equal(typeof r.body, 'object');
    assert.equal(r.body.object, 'chat.completion');
    assert.deepEqual(JSON.parse(r.bodyJson), r.body); // the raw JSON too
    assert.equal(JSON.parse(r.line).custom_id, r.customId);
    assert.match(r.requestId, /^req_/);
  }
  const failed = results[2];
  assert.equal(failed.kind, 'http_error');
  assert.equal(failed.ok, false);
  assert.equal(failed.statusCode, 400);
  assert.equal(failed.body.error.code, 'fake_failure');

  // A second iteration starts from the first result again; the sync one too.
  const again = [...batch.resultsSync()].map((r) => r.customId);
  assert.deepEqual(again, ['q1', 'q2', 'q3', 'q4', 'request-5']);

  // By custom_id.
  assert.equal(batch.lookup('q4').body.object, 'chat.completion');
  assert.equal(batch.lookup('q3').statusCode, 400);
  assert.throws(() => batch.lookup('nope'), (e) => e instanceof ObatchError && e.code === 'ENOTFOUND');

  // The remote batch is listed.
  const page = await listBatches(server.options(), { limit: 10 });
  assert.ok(page.batches.some((b) => b.batchId === info.batchId));
  assert.equal(typeof page.hasMore, 'boolean');

  // The server saw one upload and one batch.
  const stats = await server.stats();
  assert.ok(JSON.stringify(stats).length > 2);
});

test('an expired batch: wait rejects with EEXPIRED, finished results are read, the rest MISSING', async (t) => {
  const server = await FakeServer.start({ steps: 0, final_status: 'expired', partial_fraction: 0.5 });
  t.after(() => server.stop());
  const batch = new Batch(server.options());
  t.after(() => batch.close());
  for (let n = 1; n <= 4; n++) batch.add(chat(`expire ${n}`), { customId: `e${n}` });
  await batch.submit();

  const err = await batch.wait().then(
    () => assert.fail('wait resolved for an expired batch'),
    (e) => e,
  );
  assert.ok(err instanceof ObatchError);
  assert.equal(err.errno, codes.EEXPIRED);
  assert.equal(err.codeName, 'EEXPIRED');
  assert.match(err.message, /expired/);
  assert.equal(err.info.remoteStatus, 'expired');
  assert.equal(err.info.phase, 'done');

  const results = [];
  for await (const r of batch.results()) results.push(r);
  assert.deepEqual(results.map((r) => r.customId), ['e1', 'e2', 'e3', 'e4']);
  assert.deepEqual(results.map((r) => r.kind), ['succeeded', 'succeeded', 'missing', 'missing']);
  const missing = batch.lookup('e4');
  assert.equal(missing.kind, 'missing');
  assert.equal(missing.body, null);
  assert.equal(missing.line, null);
});

test('cancel: wait rejects with ECANCELLED', async (t) => {
  const server = await FakeServer.start({ steps: 1000 });
  t.after(() => server.stop());
  const batch = new Batch(server.options());
  t.after(() => batch.close());
  batch.add(chat('cancel me'), { customId: 'c1' });
  await batch.submit();
  const deadline = Date.now() + 10000;
  while (batch.info().batchId === '' && Date.now() < deadline) await sleep(20);
  await batch.cancel();
  await server.config({ steps: 0 }); // let "cancelling" end at once
  const err = await batch.wait({ timeoutMs: 10000 }).then(
    () => assert.fail('wait resolved for a cancelled batch'),
    (e) => e,
  );
  assert.equal(err.codeName, 'ECANCELLED', err.message);
  assert.equal(err.info.remoteStatus, 'cancelled');
  assert.equal([...batch.resultsSync()][0].kind, 'missing');
});

test('wait: timeoutMs rejects with ETIMEOUT and the batch goes on; an AbortSignal stops waiting', async (t) => {
  const server = await FakeServer.start({ steps: 1000 });
  t.after(() => server.stop());
  const batch = new Batch(server.options());
  t.after(() => batch.close());
  batch.add(chat('slow'));
  await batch.submit();
  await assert.rejects(batch.wait({ timeoutMs: 100 }), (e) => e.code === 'ETIMEOUT' && e.info.phase !== 'done');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(batch.wait({ signal: ac.signal }), { name: 'AbortError' });
  assert.notEqual(batch.info().phase, 'failed');
});
