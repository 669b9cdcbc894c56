'use strict';
// Deferred requests (obatch_queue_*): put one request now, get a ticket, ask
// for its answer later; workers (work()) collect the queued requests into
// batches at half the price. The store is a SQLite file or a PostgreSQL
// database shared by any number of workers.
//
// Every call that may block (open, put, get, wait, work, stats: a wait, a
// worker step, or a round trip to a remote PostgreSQL) runs on libuv's
// thread pool (the raw layer's *_async calls), never on the event loop's
// thread; wait and work do so in slices of at most SLICE_MS, so that they
// hold a pool thread only that long at a time and a closed queue or an
// aborted wait is noticed between slices.
const raw = require('./addon');
const { codes, strerror, obatchError, closedError } = require('./errors');
const { withConfigAsync } = require('./config');
const { bodyText, optionalString } = require('./batch');

/** The states of a queued request, by obatch_queue_state (1-5). */
const QUEUE_STATES = ['queued', 'submitted', 'completed', 'failed', 'expired'];
const ENDED = new Set(['completed', 'failed', 'expired']);
const SLICE_MS = 200;

/** A plain entry from the raw one: state as a name, the body parsed. */
function toEntry(r) {
  const state = QUEUE_STATES[r.state - 1] || String(r.state);
  let body = null;
  if (r.bodyJson) {
    try {
      body = JSON.parse(r.bodyJson);
    } catch {
      body = null; // the raw text is still in bodyJson
    }
  }
  return {
    ticket: r.ticket,
    state,
    stateCode: r.state,
    ended: ENDED.has(state),
    provider: r.provider,
    endpoint: r.endpoint,
    model: r.model,
    statusCode: r.statusCode,
    body,
    bodyJson: r.bodyJson || null,
    error: r.errorCode || r.errorMessage ? { code: r.errorCode, message: r.errorMessage } : null,
    batchId: r.batchId,
    attempts: r.attempts,
    createdMs: r.createdMs,
    submittedMs: r.submittedMs,
    endedMs: r.endedMs,
  };
}

const STEP_COUNTS = ['flushed', 'stored', 'requeued', 'takenOver', 'pruned'];

function ticketString(ticket) {
  if (typeof ticket !== 'string') throw new TypeError('obatch: a ticket is a string');
  if (ticket.includes('\0')) throw obatchError(codes.EINVAL, 'obatch: a NUL byte in the ticket');
  return ticket;
}

function deadlineOf(timeoutMs) {
  if (timeoutMs == null || Number(timeoutMs) < 0) return Infinity;
  const ms = Number(timeoutMs);
  if (Number.isNaN(ms)) throw new TypeError('obatch: timeoutMs must be a number');
  return Date.now() + ms;
}

/** The next slice of a call that may wait until `deadline`. */
function sliceUntil(deadline) {
  return Math.max(0, Math.min(SLICE_MS, Math.ceil(deadline - Date.now())));
}

function fail(rc, errstr, options) {
  const code = rc < 0 ? rc : codes.EINTERNAL;
  return obatchError(code, errstr || `obatch: ${strerror(code)}`, options);
}

// The safety net: a Queue that is garbage collected without close() closes
// its handle here. The held value is the raw handle, never the Queue.
const registry = new FinalizationRegistry((handle) => raw.obatch_queue_close(handle));

/**
 * A queue of deferred requests. Open it with `await Queue.open({store,
 * ...})`; every method resolves, or rejects with an ObatchError carrying the
 * library's message. Calls may overlap (the handle is thread-safe).
 */
class Queue {
  /**
   * Opens (creates, or migrates) the queue in `options.store`: a SQLite
   * file, or a "postgresql://" URI; default $OBATCH_QUEUE, else
   * $XDG_STATE_HOME/obatch/queue.db. The other options are config keys in
   * camelCase: the flush rules (flushRequests, flushBytes, flushAge "10m"),
   * lease, retention, maxAttempts, and those of a batch (provider, baseUrl,
   * apiKey, workDir, state, pollIntervalMs, ...); `model` is put into every
   * body without one.
   */
  static async open(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('obatch: options must be an object');
    const { store = null, model, ...config } = options;
    const where = optionalString(store, 'store');
    const handle = await withConfigAsync(config, async (conf) => {
      const [rc, h, errstr] = await raw.obatch_queue_open_async(conf, where);
      if (rc !== 0 || !h) {
        if (h) raw.obatch_queue_close(h);
        throw fail(rc, errstr);
      }
      return h;
    });
    return new Queue(handle, { store: where, model });
  }

  /** Use Queue.open(). */
  constructor(handle, { store = null, model } = {}) {
    if (!handle || typeof handle !== 'object') throw new TypeError('obatch: use `await Queue.open(options)`');
    this._handle = handle;
    this._store = store;
    this._model = model ? String(model) : null;
    this._inFlight = 0;
    this._closing = false;
    registry.register(this, handle, this);
  }

  _h() {
    if (!this._handle || this._closing) throw closedError('queue');
    return this._handle;
  }

  /** Runs one raw async call ([rc, out, errstr]) with the handle kept open until it settles. */
  async _call(start) {
    const h = this._h();
    this._inFlight++;
    try {
      return await start(h);
    } finally {
      if (--this._inFlight === 0 && this._closing) this._free();
    }
  }

  /**
   * Stores one request and resolves with its ticket. `body` is an object or
   * its JSON text, checked exactly as Batch#add checks it (nothing is stored
   * when it is refused: EJSON, EREQUEST, ELIMIT, ... naming the field).
   * Without `id` the ticket comes from the request (the same request again:
   * the same ticket, stored and paid for once); an `id` is the ticket and
   * must be unique (another request with it: EDUPLICATE).
   */
  async put(body, { endpoint, id } = {}) {
    const text = bodyText(body, this._model);
    if (text.includes('\0')) throw obatchError(codes.EJSON, 'obatch: a NUL byte in the JSON text');
    const ep = optionalString(endpoint, 'endpoint');
    const cid = optionalString(id, 'id');
    if ((ep && ep.includes('\0')) || (cid && cid.includes('\0'))) {
      throw obatchError(codes.EINVAL, 'obatch: a NUL byte in the endpoint or id');
    }
    const [rc, ticket, errstr] = await this._call((h) => raw.obatch_queue_put_async(h, ep, text, cid));
    if (rc !== 0) throw fail(rc, errstr);
    return ticket;
  }

  /** The request's state now and, once it ended, its answer. ENOTFOUND for an unknown ticket. */
  async get(ticket) {
    const t = ticketString(ticket);
    const [rc, entry, errstr] = await this._call((h) => raw.obatch_queue_get_async(h, t));
    if (rc !== 0) throw fail(rc, errstr);
    return toEntry(entry);
  }

  /**
   * Resolves with the entry once the request has ended (completed, failed
   * or expired). Rejects with ETIMEOUT after `timeoutMs` (default: no
   * limit), with `err.entry` the request as it is then; with
   * `signal.reason` when the signal aborts (noticed within SLICE_MS).
   */
  async wait(ticket, { timeoutMs, signal } = {}) {
    const t = ticketString(ticket);
    const deadline = deadlineOf(timeoutMs);
    for (;;) {
      if (signal && signal.aborted) throw signal.reason;
      const [rc, entry, errstr] = await this._call((h) => raw.obatch_queue_wait_async(h, t, sliceUntil(deadline)));
      if (rc === 0) return toEntry(entry);
      if (rc !== codes.ETIMEOUT) throw fail(rc, errstr);
      if (Date.now() >= deadline) throw fail(rc, errstr, { entry: toEntry(entry) });
    }
  }

  /**
   * One step of a worker: renews its leases, stores the answers of its
   * batches that ended, takes over the batches of workers that stopped,
   * makes and submits a batch when a flush rule fires, removes ended
   * requests after the retention. When there was nothing to do it waits up
   * to `timeoutMs` (default 500) for something. Resolves with the stats:
   * the store's counts, and what this step did (flushed, stored, requeued,
   * takenOver, pruned; held: the batches this handle runs now). Call it in
   * a loop; close() gives the batches up to the other workers.
   */
  async work({ timeoutMs = 500 } = {}) {
    const deadline = deadlineOf(timeoutMs);
    const done = Object.fromEntries(STEP_COUNTS.map((k) => [k, 0]));
    for (;;) {
      const [rc, stats, errstr] = await this._call((h) => raw.obatch_queue_work_async(h, sliceUntil(deadline)));
      if (rc !== 0) throw fail(rc, errstr);
      for (const k of STEP_COUNTS) done[k] += stats[k];
      const did = done.flushed + done.stored + done.requeued + done.takenOver > 0;
      if (did || Date.now() >= deadline) return { ...stats, ...done };
    }
  }

  /** The store's counts by state, the batches running and the oldest queued request (unix ms, 0: none). */
  async stats() {
    const [rc, stats, errstr] = await this._call((h) => raw.obatch_queue_stats_async(h));
    if (rc !== 0) throw fail(rc, errstr);
    return stats;
  }

  /** The store given to open() (null: the default one). */
  get store() {
    return this._store;
  }

  get closed() {
    return this._handle === null || this._closing;
  }

  /**
   * Closes the queue (idempotent): the batches this handle runs are given up
   * to the other workers at once (they run on at the provider). Calls still
   * in flight finish first; new ones reject with EINVAL.
   */
  close() {
    if (!this._handle || this._closing) return;
    this._closing = true;
    registry.unregister(this);
    if (this._inFlight === 0) this._free();
  }

  _free() {
    const h = this._handle;
    this._handle = null;
    if (h) raw.obatch_queue_close(h);
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Queue.prototype[Symbol.dispose] = Queue.prototype.close;
}

module.exports = { Queue, QUEUE_STATES, toEntry };
