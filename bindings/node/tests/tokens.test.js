'use strict';
// Tokens and cost before anything is sent, the same in Node, Go and Ruby:
// the counting guide's figures ("hello world" is 2 tokens of o200k_base; a
// chat of one user message "x" is 3 + 1 + 1 + 3 = 8), and an estimate of a
// file of 2 gpt-4o-mini requests and 1 gpt-4o request with the built-in
// prices (batch mode at half the price). Nothing here needs a server.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { countTokens, countTextTokens, estimateFile, ObatchError, codes } = require('..');

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 5 };
const ROW_FIELDS = [
  'model', 'encoding', 'requests', 'promptTokens', 'outputTokens', 'encodingAssumed', 'outputAssumed',
  'images', 'imagesAssumed', 'approximate', 'batches', 'hasCost', 'batchCostUsd', 'directCostUsd',
];

function line(id, model) {
  return JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: 'x' }] },
  });
}

function tmpFile(t, name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obatch-tokens-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function isCode(name, pattern) {
  return (err) => {
    assert.ok(err instanceof ObatchError, `an ObatchError, not ${err && err.name}: ${err && err.message}`);
    assert.equal(err.codeName, name, err.message);
    assert.equal(err.code, name);
    assert.equal(err.errno, codes[name]);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

test('countTextTokens: "hello world" is 2 tokens of o200k_base; an unknown encoding is EINVAL', () => {
  assert.equal(countTextTokens('o200k_base', 'hello world'), 2);
  assert.equal(countTextTokens('cl100k_base', 'hello world'), 2);
  assert.equal(countTextTokens('o200k_base', ''), 0);
  // The length comes from JS: a NUL inside is text, not an end.
  assert.ok(countTextTokens('o200k_base', 'hello\0world') > 2);
  assert.throws(() => countTextTokens('p50k_base', 'x'), isCode('EINVAL', /p50k_base/));
  assert.throws(() => countTextTokens('o200k_base', 42), TypeError);
});

test('countTokens: a chat of one message "x" is 8 prompt tokens, max_completion_tokens the output', () => {
  for (const body of [CHAT, JSON.stringify(CHAT), Buffer.from(JSON.stringify(CHAT))]) {
    const t = countTokens('/v1/chat/completions', body);
    assert.deepEqual(t, {
      encoding: 'o200k_base',
      encodingAssumed: false,
      promptTokens: 8,
      outputTokens: 5,
      outputAssumed: false,
      images: 0,
      imagesAssumed: false,
      approximate: false,
    });
  }
  const noMax = countTokens('/v1/chat/completions', { ...CHAT, max_completion_tokens: undefined, n: 2 });
  assert.equal(noMax.outputTokens, 2000);
  assert.equal(noMax.outputAssumed, true);
  const unknown = countTokens('/v1/chat/completions', { ...CHAT, model: 'my-own-model' });
  assert.equal(unknown.encoding, 'o200k_base');
  assert.equal(unknown.encodingAssumed, true);
});

test('countTokens: a body that is not a JSON object is EJSON with the library message', () => {
  assert.throws(() => countTokens('/v1/embeddings', '[]'), isCode('EJSON', /not a JSON object/));
  assert.throws(() => countTokens('/v1/embeddings', []), isCode('EJSON', /not a JSON object/));
  assert.throws(() => countTokens('/v1/embeddings', 42), isCode('EJSON', /not a JSON object/));
  assert.throws(() => countTokens('/v1/chat/completions', '{"model": '), isCode('EJSON', /not a JSON object/));
  assert.throws(() => countTokens('/v1/chat/completions', undefined), isCode('EJSON', /not a JSON object/));
  const circular = {};
  circular.self = circular;
  assert.throws(() => countTokens('/v1/chat/completions', circular), isCode('EJSON'));
  assert.throws(() => countTokens(null, CHAT), TypeError);
});

test('estimateFile: per model, then the total; batch mode costs half', async (t) => {
  const file = tmpFile(t, 'in.jsonl', [line('a', 'gpt-4o-mini'), line('b', 'gpt-4o-mini'), line('c', 'gpt-4o')].join('\n') + '\n');
  const pending = estimateFile(file);
  assert.ok(pending instanceof Promise);
  const e = await pending;
  assert.deepEqual(e.models.map((r) => r.model), ['gpt-4o-mini', 'gpt-4o']);
  for (const row of [...e.models, e.total]) assert.deepEqual(Object.keys(row).sort(), [...ROW_FIELDS].sort());

  const [mini, big] = e.models;
  assert.equal(mini.encoding, 'o200k_base');
  assert.equal(mini.requests, 2);
  assert.equal(mini.promptTokens, 16);
  assert.equal(mini.outputTokens, 2000); // no max: 1000 assumed each
  assert.equal(mini.outputAssumed, 2);
  assert.equal(mini.batches, 1);
  assert.equal(mini.hasCost, true);
  assert.ok(mini.directCostUsd > 0);
  assert.equal(mini.batchCostUsd * 2, mini.directCostUsd);
  assert.equal(big.requests, 1);
  assert.equal(big.promptTokens, 8);

  assert.equal(e.total.model, '');
  assert.equal(e.total.requests, 3);
  assert.equal(e.total.promptTokens, 24);
  assert.equal(e.total.batches, 2); // OpenAI: one model per batch
  assert.equal(e.total.hasCost, true);
  assert.ok(Math.abs(e.total.directCostUsd - (mini.directCostUsd + big.directCostUsd)) < 1e-12);
  assert.match(e.prices, /^built in, 20\d\d-\d\d-\d\d$/);

  // Config keys go to the config: with max_requests 1, a batch a request.
  const cut = await estimateFile(file, { maxRequests: 1 });
  assert.equal(cut.total.batches, 3);
});

test("estimateFile: a price table of one's own; no price is a null cost, never a guess", async (t) => {
  const file = tmpFile(t, 'in.jsonl', [line('a', 'gpt-4o-mini'), line('b', 'gpt-4o-mini'), line('c', 'gpt-4o')].join('\n') + '\n');
  const prices = tmpFile(t, 'prices.tsv', '# date: 2030-01-01\ngpt-4o-mini\t1000000\t-\t0\t500000\t0\n');
  const e = await estimateFile(file, { prices });
  assert.ok(Math.abs(e.models[0].directCostUsd - 16) < 1e-9); // 16 tokens at $1 each
  assert.ok(Math.abs(e.models[0].batchCostUsd - 8) < 1e-9);
  assert.equal(e.models[1].hasCost, false);
  assert.equal(e.models[1].batchCostUsd, null);
  assert.equal(e.models[1].directCostUsd, null);
  assert.equal(e.total.hasCost, false);
  assert.equal(e.total.directCostUsd, null);
  assert.equal(e.prices, `${prices}, 2030-01-01`);
});

test('estimateFile: errors carry the library message', async (t) => {
  const bad = tmpFile(t, 'bad.tsv', 'gpt-4o\t1\t2\n');
  const file = tmpFile(t, 'in.jsonl', line('a', 'gpt-4o-mini') + '\n');
  await assert.rejects(estimateFile(file, { prices: bad }), isCode('EIO', /bad\.tsv line 1: 3 columns, not 6/));
  const broken = tmpFile(t, 'broken.jsonl', line('a', 'gpt-4o-mini') + '\n{oops\n');
  await assert.rejects(estimateFile(broken), isCode('EJSON', /line 2/));
  await assert.rejects(estimateFile(path.join(os.tmpdir(), 'obatch-no-such-file.jsonl')), isCode('EIO', /no-such-file/));
  await assert.rejects(estimateFile(file, { noSuchKey: 1 }), isCode('ECONFIG', /no_such_key/));
  await assert.rejects(estimateFile(file, { prices: 3 }), TypeError);
});
