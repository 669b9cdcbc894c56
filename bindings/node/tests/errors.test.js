'use strict';
// Error paths: every failure is an ObatchError with the C API's code.
const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const obatch = require('..');
const { Batch, ObatchError, codes } = obatch;
const { FakeServer, chat } = require('./fake_server');

// Needs no server: nothing here is sent.
const offline = (extra = {}) => ({ provider: 'openai', apiKey: 'test-key', workDir: os.tmpdir(), ...extra });

// The class of every error code: the same names as Ruby's (lib/obatch/errors.rb).
const KIND = {
  EINVAL: obatch.InvalidArgumentError, ENOMEM: obatch.OutOfMemoryError, ECONFIG: obatch.ConfigError,
  EJSON: obatch.JSONError, EREQUEST: obatch.InvalidRequestError, EDUPLICATE: obatch.DuplicateIdError,
  ELIMIT: obatch.LimitError, EMODEL: obatch.ModelError, ESTATE: obatch.StateError, EIO: obatch.FileError,
  EPROVIDER: obatch.ProviderError, EAUTH: obatch.AuthError, ENETWORK: obatch.NetworkError,
  EHTTP: obatch.HTTPError, EPROTOCOL: obatch.ProtocolError, EINSECURE: obatch.InsecureError,
  ETIMEOUT: obatch.TimeoutError, ENOTFOUND: obatch.NotFoundError, EFAILED: obatch.FailedError,
  EEXPIRED: obatch.ExpiredError, ECANCELLED: obatch.CancelledError, EINTERNAL: obatch.InternalError,
  EABORTED: obatch.AbortError,
};

test('every error code has its class; families share a parent', () => {
  for (const [name, Kind] of Object.entries(KIND)) {
    assert.equal(typeof Kind, 'function', name);
    assert.ok(Kind.prototype instanceof ObatchError, name);
  }
  assert.equal(Object.keys(KIND).length, Object.keys(codes).length - 2); // all but OK and END
  assert.ok(obatch.LimitError.prototype instanceof obatch.RequestError);
  assert.ok(obatch.NetworkError.prototype instanceof obatch.RemoteError);
  assert.ok(obatch.ExpiredError.prototype instanceof obatch.BatchEndedError);
  assert.ok(obatch.ClosedError.prototype instanceof obatch.InvalidArgumentError);
});

function isCode(name, Kind = KIND[name]) {
  return (err) => {
    assert.ok(err instanceof ObatchError, `an ObatchError, not ${err && err.name}: ${err && err.message}`);
    assert.ok(err instanceof Error);
    // The class of its kind (the Ruby binding's names), exported by name.
    assert.equal(obatch[err.name], err.constructor, `${err.name} is exported`);
    assert.equal(err.constructor, Kind, `${name} is a ${Kind.name}`);
    assert.equal(err.codeName, name, err.message);
    assert.equal(err.code, name);
    assert.equal(err.errno, codes[name]);
    assert.ok(err.message.length > 0);
    return true;
  };
}

test('codes and version', () => {
  assert.equal(codes.OK, 0);
  assert.equal(codes.END, 1);
  assert.equal(codes.EEXPIRED, -20);
  assert.equal(obatch.codeName(-4), 'EJSON');
  assert.equal(obatch.strerror(codes.EJSON), 'invalid JSON');
  assert.match(obatch.version, /^\d+\.\d+\.\d+$/);
  assert.equal(typeof obatch.versionNumber, 'number');
  const e = new ObatchError(codes.ELIMIT);
  assert.equal(e.message, obatch.strerror(codes.ELIMIT));
  assert.equal(e.codeName, 'ELIMIT');
});

test('bad JSON text is EJSON, and nothing is added', () => {
  const b = new Batch(offline());
  try {
    assert.throws(() => b.add('{"model": "gpt-4o-mini", "messages": [', { customId: 'x' }), isCode('EJSON'));
    assert.match(b.lastError, /JSON/);
    assert.throws(() => b.add(42), isCode('EJSON'));
    assert.throws(() => b.add(null), isCode('EJSON'));
    const circular = { model: 'gpt-4o-mini' };
    circular.self = circular;
    assert.throws(() => b.add(circular), isCode('EJSON'));
    assert.equal(b.info().requestsAdded, 0);
    // The id is still free.
    assert.equal(b.add(chat('ok'), { customId: 'x' }), 'x');
  } finally {
    b.close();
  }
});

test('a provider limit is ELIMIT; a duplicate custom_id EDUPLICATE; a second model EMODEL', () => {
  // split 'off': one batch, so a request over its limits is refused.
  const b = new Batch(offline({ maxRequests: 2, split: 'off' }));
  try {
    b.add(chat('1'), { customId: 'a' });
    assert.throws(() => b.add(chat('1b'), { customId: 'a' }), isCode('EDUPLICATE'));
    b.add(chat('2'), { customId: 'b' });
    assert.throws(() => b.add(chat('3'), { customId: 'c' }), isCode('ELIMIT'));
    assert.equal(b.info().requestsAdded, 2);
  } finally {
    b.close();
  }
  const m = new Batch(offline({ split: 'off' }));
  try {
    m.add(chat('1', 'gpt-4o-mini'));
    assert.throws(() => m.add(chat('2', 'gpt-4o')), isCode('EMODEL'));
  } finally {
    m.close();
  }
  // By default (split 'auto') both go into a part of their own instead.
  const parted = new Batch(offline({ maxRequests: 2 }));
  try {
    for (const n of ['1', '2', '3']) parted.add(chat(n));
    parted.add(chat('4', 'gpt-4o'));
    const info = parted.info();
    assert.equal(info.requestsAdded, 4);
    assert.equal(info.model, 'gpt-4o-mini,gpt-4o');
  } finally {
    parted.close();
  }
});

test('an unknown provider is EPROVIDER; an unknown config key or bad value ECONFIG', () => {
  // The library's own message, not only the code's name.
  assert.throws(() => new Batch({ provider: 'no-such-provider' }), (e) => {
    isCode('EPROVIDER')(e);
    assert.match(e.message, /unknown provider 'no-such-provider' \(known: openai, parasail/);
    return true;
  });
  assert.throws(() => new Batch({ provider: 'openai', noSuchKey: 1 }), (e) => {
    isCode('ECONFIG')(e);
    assert.match(e.message, /no_such_key/);
    return true;
  });
  assert.throws(() => new Batch({ provider: 'openai', pollIntervalMs: 'soon' }), isCode('ECONFIG'));
  assert.throws(() => new Batch({ metadata: 'x' }), TypeError);
});

test('a missing API key: the batch fails with EAUTH naming the variable', async (t) => {
  const server = await FakeServer.start();
  t.after(() => server.stop());
  const options = server.options();
  delete options.apiKey;
  let b;
  try {
    b = new Batch(options);
    b.add(chat('no key'));
    await b.submit();
    await b.wait({ timeoutMs: 10000 });
    assert.fail('a batch without a key ran');
  } catch (err) {
    isCode('EAUTH')(err);
    assert.match(err.message, /OPENAI_API_KEY/);
  } finally {
    if (b) b.close();
  }
  assert.equal((await server.batches()).length, 0, 'nothing reached the server');
});

test('the phase rules: ESTATE; a closed batch is EINVAL; close is idempotent', async (t) => {
  const server = await FakeServer.start({ steps: 0 });
  t.after(() => server.stop());
  const b = new Batch(server.options());
  b.add(chat('1'));
  assert.throws(() => b.lookup('request-1'), isCode('ESTATE'));
  await assert.rejects(async () => {
    for await (const r of b.results()) assert.fail(`a result before the end: ${r.customId}`);
  }, isCode('ESTATE'));
  await b.submit();
  assert.throws(() => b.add(chat('late')), isCode('ESTATE'));
  await assert.rejects(b.submit(), isCode('ESTATE'));
  await b.wait();
  b.close();
  b.close();
  assert.equal(b.closed, true);
  assert.equal(b.lastError, '');
  const closed = isCode('EINVAL', obatch.ClosedError);
  assert.throws(() => b.add(chat('x')), closed);
  assert.throws(() => b.info(), closed);
  await assert.rejects(b.wait(), closed);
  assert.throws(() => [...b.resultsSync()], closed);
});

test('closing while a wait() is pending rejects the wait', async (t) => {
  const server = await FakeServer.start({ steps: 1000 });
  t.after(() => server.stop());
  const b = new Batch(server.options());
  b.add(chat('1'));
  await b.submit();
  const pending = b.wait();
  setTimeout(() => b.close(), 50);
  await assert.rejects(pending, isCode('EINVAL', obatch.ClosedError));
});

test('bad argument types are TypeErrors', () => {
  const b = new Batch(offline());
  try {
    assert.throws(() => b.add(chat('x'), { customId: 7 }), TypeError);
    assert.throws(() => b.lookup(7), TypeError);
    assert.throws(() => b.addFile(7), TypeError);
    assert.throws(() => b.wait({ onProgress: 'x' }), TypeError);
  } finally {
    b.close();
  }
});

test('addLine and addFile report the bad line', () => {
  const b = new Batch(offline());
  try {
    b.addLine({ custom_id: 'l1', method: 'POST', url: '/v1/chat/completions', body: chat('line') });
    assert.throws(() => b.addLine('{"custom_id": "l2"}'), isCode('EREQUEST'));
    assert.throws(() => b.addFile('/nonexistent/requests.jsonl'), isCode('EIO'));
    assert.equal(b.info().requestsAdded, 1);
  } finally {
    b.close();
  }
});

test('addMany adds many bodies, all or nothing, naming the bad line', () => {
  const b = new Batch(offline());
  try {
    const body = JSON.stringify(chat('many'));
    assert.equal(b.addMany(Buffer.from(`${body}\n${body}\n`)), 2);
    assert.equal(b.addMany(`${body}\n${body}`, { endpoint: '/v1/chat/completions' }), 2);
    assert.equal(b.addMany(Buffer.alloc(0)), 0);
    assert.throws(() => b.addMany(7), TypeError);
    assert.throws(
      () => b.addMany(`${body}\n{"model":"gpt-4o-mini","messages":[}\n${body}\n`),
      (e) => isCode('EJSON')(e) && /line 2: /.test(e.message),
    );
    assert.equal(b.info().requestsAdded, 4);
    assert.equal(b.add(chat('after')), 'request-5');
  } finally {
    b.close();
  }
});

test('raw is the C API one to one: the escape hatch', () => {
  const { raw } = obatch;
  assert.equal(raw.obatch_version(), obatch.version);
  assert.equal(raw.obatch_strerror(codes.EABORTED), 'the call was aborted');
  const [rc, conf] = raw.obatch_config_new();
  assert.equal(rc, 0);
  try {
    const [src, err] = raw.obatch_config_set(conf, 'no_such_key', 'x');
    assert.equal(src, codes.ECONFIG);
    assert.match(err, /no_such_key/);
  } finally {
    raw.obatch_config_destroy(conf);
  }
});
