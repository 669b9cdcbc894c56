'use strict';
// retrieve / cancelBatch / checkFile / openResults wrap C functions that are
// new (obatch_retrieve, obatch_cancel_id, obatch_check_*, obatch_open): a
// test is skipped while its function is still a stub (EINTERNAL).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Batch, codes, retrieve, cancelBatch, checkFile, openResults, allBatches, listBatches } = require('..');
const { FakeServer, chat } = require('./fake_server');

async function orSkip(t, promise) {
  try {
    return await promise;
  } catch (err) {
    if (err.code === 'EINTERNAL') {
      t.skip(`not implemented in the C library yet: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

test('retrieve, cancelBatch, openResults on a finished batch; checkFile', async (t) => {
  const server = await FakeServer.start({ steps: 0 });
  t.after(() => server.stop());
  const batch = new Batch(server.options());
  t.after(() => batch.close());
  batch.add(chat('a'), { customId: 'a' });
  batch.add(chat('b'), { customId: 'b' });
  await batch.submit();
  const info = await batch.wait();

  await t.test('retrieve', async (t) => {
    const got = await orSkip(t, retrieve(info.batchId, server.options()));
    if (!got) return;
    assert.equal(got.batchId, info.batchId);
    assert.equal(got.remoteStatus, 'completed');
    await assert.rejects(retrieve('batch_nope', server.options()), (e) => e.code === 'ENOTFOUND');
  });

  await t.test('cancelBatch of an ended batch answers its status', async (t) => {
    const got = await orSkip(t, cancelBatch(info.batchId, server.options()));
    if (got) assert.equal(got.remoteStatus, 'completed');
  });

  await t.test('Batch.fromFiles and openResults', async (t) => {
    for (const open of [Batch.fromFiles, openResults]) {
      const opened = await orSkip(t, (async () =>
        open({ inputPath: batch.inputPath, outputPath: info.outputPath }))());
      if (!opened) return;
      try {
        assert.deepEqual([...opened.resultsSync()].map((r) => `${r.customId}:${r.kind}`), ['a:succeeded', 'b:succeeded']);
        assert.equal(opened.lookup('b').statusCode, 200);
      } finally {
        opened.close();
      }
    }
    assert.equal(Batch.open, undefined); // Batch.open is Ruby's block form only
  });

  await t.test('allBatches: every batch, newest first, a page at a time', async () => {
    const second = new Batch(server.options());
    t.after(() => second.close());
    second.add(chat('c'), { customId: 'c' });
    await second.submit();
    const secondInfo = await second.wait();
    const seen = [];
    for await (const b of allBatches(server.options(), { pageSize: 1 })) seen.push(b.batchId);
    assert.deepEqual(seen.slice(0, 2), [secondInfo.batchId, info.batchId]);
    const page = await listBatches(server.options(), { limit: 1 });
    assert.equal(page.hasMore, true);
  });

  await t.test('checkFile', async (t) => {
    const file = path.join(server.tmp, 'check.jsonl');
    const good = { custom_id: 'x', method: 'POST', url: '/v1/chat/completions', body: chat('q') };
    fs.writeFileSync(file, `${JSON.stringify(good)}\n{bad\n${JSON.stringify(good)}\n`);
    const res = await orSkip(t, checkFile(file, { provider: 'openai' }));
    if (!res) return;
    assert.equal(res.problemCount, 2);
    assert.deepEqual(res.problems.map((p) => [p.line, p.codeName]), [[2, 'EJSON'], [3, 'EDUPLICATE']]);
    assert.equal(res.info.requestsAdded, 1);
  });
});
