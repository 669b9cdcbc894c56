'use strict';
// Deferred requests (Queue) end to end against the local fake Batch server:
// the scenario every binding runs (Node, Go, Ruby), on a SQLite store and,
// when OBATCH_TEST_PG_URI names a server, on a fresh PostgreSQL database.
// 20 puts (two of the same request: one ticket), worker steps until every
// request completed with its own answer (the fake server echoes the
// custom_id, which is the ticket), and the errors: a bad body, an unknown
// ticket, a wait that runs out of time, a client id used twice.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Queue, ObatchError, codes } = require('..');
const { FakeServer, chat } = require('./fake_server');

const PG_URI = process.env.OBATCH_TEST_PG_URI || '';
const PG_REQUIRED = process.env.OBATCH_TEST_PG_REQUIRED === '1';

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obatch-node-queue-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function psql(uri, sql) {
  return execFileSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', uri, '-c', sql], {
    encoding: 'utf8',
    timeout: 30000,
  });
}

/** Checks that `promise` rejects with an ObatchError of `name` whose message matches every pattern. */
async function rejectsWith(promise, name, ...patterns) {
  let error = null;
  await assert.rejects(promise, (err) => {
    error = err;
    assert.ok(err instanceof ObatchError, `not an ObatchError: ${err}`);
    assert.equal(err.codeName, name, err.message);
    assert.equal(err.code, name);
    assert.equal(err.errno, codes[name]);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
  return error;
}

async function scenario(t, store) {
  const dir = tempDir(t);
  const server = await FakeServer.start({ steps: 1 });
  t.after(() => server.stop());
  const started = Date.now();
  const q = await Queue.open({
    ...server.options({ workDir: dir, state: path.join(dir, 'jobs.db') }),
    store,
    flushAge: '1s',
  });
  t.after(() => q.close());
  assert.equal(q.store, store);

  // 20 puts: 19 requests, the first one again (as JSON text, its keys in
  // another order): the same ticket, stored once.
  const tickets = [];
  for (let i = 0; i < 19; i++) tickets.push(await q.put(chat(`q ${i}`)));
  tickets.push(await q.put('{"messages":[{"content":"q 0","role":"user"}],"model":"gpt-4o-mini"}'));
  assert.equal(tickets.length, 20);
  assert.equal(tickets[19], tickets[0]);
  const unique = [...new Set(tickets)];
  assert.equal(unique.length, 19);
  for (const ticket of unique) assert.match(ticket, /^obq_[0-9a-f]{32}$/);

  const queued = await q.get(tickets[3]);
  assert.equal(queued.ticket, tickets[3]);
  assert.equal(queued.state, 'queued');
  assert.equal(queued.ended, false);
  assert.equal(queued.provider, 'openai');
  assert.equal(queued.endpoint, '/v1/chat/completions');
  assert.equal(queued.model, 'gpt-4o-mini');
  assert.equal(queued.statusCode, 0);
  assert.equal(queued.body, null);
  assert.equal(queued.error, null);
  assert.equal(queued.batchId, '');
  assert.equal(queued.attempts, 0);
  assert.ok(queued.createdMs >= started - 1000 && queued.createdMs <= Date.now() + 1000, `${queued.createdMs}`);
  assert.equal(queued.submittedMs, 0);
  assert.equal(queued.endedMs, 0);
  let stats = await q.stats();
  assert.equal(stats.queued, 19);
  assert.equal(stats.completed, 0);
  assert.ok(stats.oldestQueuedMs > 0 && stats.oldestQueuedMs <= queued.createdMs);

  // Worker steps until every request completed; the event loop runs meanwhile.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  let flushed = 0;
  let stored = 0;
  const until = Date.now() + 60000;
  try {
    while (stats.completed < 19) {
      assert.ok(Date.now() < until, `not every request completed within 60 s: ${JSON.stringify(stats)}`);
      stats = await q.work({ timeoutMs: 200 });
      flushed += stats.flushed;
      stored += stats.stored;
    }
  } finally {
    clearInterval(ticker);
  }
  assert.equal(flushed, 19);
  assert.equal(stored, 19);
  assert.deepEqual([stats.queued, stats.submitted, stats.failed, stats.expired], [0, 0, 0, 0]);
  assert.ok(ticks > 20, `the event loop ran while the worker stepped (${ticks} ticks)`);

  // Every answer is the request's own.
  const batches = new Set();
  for (const ticket of unique) {
    const e = await q.get(ticket);
    assert.equal(e.state, 'completed', ticket);
    assert.equal(e.ended, true);
    assert.equal(e.statusCode, 200);
    assert.equal(e.body.choices[0].message.content, `echo: ${ticket}`);
    assert.deepEqual(JSON.parse(e.bodyJson), e.body);
    assert.equal(e.error, null);
    assert.match(e.batchId, /^batch_/);
    assert.equal(e.attempts, 1);
    assert.ok(e.createdMs <= e.submittedMs && e.submittedMs <= e.endedMs, JSON.stringify(e));
    batches.add(e.batchId);
  }
  assert.equal(batches.size, 1, 'one flush, one batch');
  assert.equal((await server.stats()).batches.length, 1);

  // wait() on a completed request returns at once.
  const t0 = Date.now();
  const waited = await q.wait(tickets[19], { timeoutMs: 10000 });
  assert.ok(Date.now() - t0 < 1000, `wait took ${Date.now() - t0} ms`);
  assert.equal(waited.state, 'completed');
  assert.equal(waited.body.choices[0].message.content, `echo: ${tickets[0]}`);

  // Bad bodies are refused with the library's message, naming the field.
  await rejectsWith(q.put({ model: 'gpt-4o-mini', messages: 'hi' }), 'EREQUEST', /messages/);
  await rejectsWith(q.put({ messages: [{ role: 'user', content: 'x' }] }), 'EREQUEST', /model/);
  await rejectsWith(q.put('{"model": "gpt-4o-mini", "messages": '), 'EJSON', /JSON/);

  // An unknown ticket.
  await rejectsWith(q.get('obq_nosuch'), 'ENOTFOUND', /obq_nosuch/);
  await rejectsWith(q.wait('obq_nosuch', { timeoutMs: 100 }), 'ENOTFOUND', /obq_nosuch/);

  // A client id is the ticket: the same request again is fine, another one is not.
  assert.equal(await q.put(chat('a'), { id: 'mine-1' }), 'mine-1');
  assert.equal(await q.put(chat('a'), { id: 'mine-1' }), 'mine-1');
  await rejectsWith(q.put(chat('b'), { id: 'mine-1' }), 'EDUPLICATE', /mine-1/, /unique/);

  // A short wait on a queued request runs out of time.
  const t1 = Date.now();
  const timeout = await rejectsWith(q.wait('mine-1', { timeoutMs: 300 }), 'ETIMEOUT', /mine-1/, /queued/);
  const took = Date.now() - t1;
  assert.ok(took >= 250 && took < 5000, `a 300 ms wait took ${took} ms`);
  assert.equal(timeout.entry.ticket, 'mine-1');
  assert.equal(timeout.entry.state, 'queued');

  // Nothing refused was stored.
  stats = await q.stats();
  assert.deepEqual([stats.queued, stats.completed, stats.flushed], [1, 19, 0]);

  q.close();
  assert.equal(q.closed, true);
  q.close(); // idempotent
  await rejectsWith(q.get(tickets[0]), 'EINVAL', /closed/);
}

test('deferred requests on SQLite: put, work until completed, every answer its own, the errors', async (t) => {
  const dir = tempDir(t);
  await scenario(t, path.join(dir, 'queue.db'));
});

test('deferred requests on PostgreSQL: the same scenario on a fresh database', async (t) => {
  if (!PG_URI) {
    assert.ok(!PG_REQUIRED, 'OBATCH_TEST_PG_REQUIRED=1 but OBATCH_TEST_PG_URI is not set');
    t.skip('no PostgreSQL server: set OBATCH_TEST_PG_URI (scripts/pg-test-server.sh starts one)');
    return;
  }
  const name = `obatch_node_${crypto.randomBytes(6).toString('hex')}`;
  psql(PG_URI, `CREATE DATABASE ${name}`);
  t.after(() => psql(PG_URI, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const uri = new URL(PG_URI);
  uri.pathname = `/${name}`;
  await scenario(t, uri.toString());
});

test('a queue that cannot be opened, and bad arguments', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, '');
  // A store under a regular file: the library's own message names it.
  const err = await rejectsWith(Queue.open({ store: path.join(file, 'queue.db'), provider: 'openai' }), 'EIO');
  assert.ok(err.message.includes(file), err.message);
  await rejectsWith(Queue.open({ store: path.join(dir, 'q.db'), flushAge: 'soon' }), 'ECONFIG', /flush_age/, /soon/);
  assert.equal(fs.existsSync(path.join(dir, 'q.db')), false, 'a bad config creates no store');
  await rejectsWith(Queue.open({ store: path.join(dir, 'q.db'), noSuchKey: 1 }), 'ECONFIG', /no_such_key/);
  assert.throws(() => new Queue(null), TypeError);
  const q = await Queue.open({ store: path.join(dir, 'q.db'), provider: 'openai', apiKey: 'k' });
  await assert.rejects(q.get(42), TypeError);
  await assert.rejects(q.put({ model: 'gpt-4o-mini', messages: [] }, { id: 7 }), TypeError);
  q.close();
});
