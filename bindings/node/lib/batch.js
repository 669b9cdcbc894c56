'use strict';
const raw = require('./addon');
const { codes, strerror, obatchError, closedError } = require('./errors');
const { withConfig } = require('./config');

const PHASES = ['building', 'uploading', 'creating', 'waiting', 'downloading', 'done', 'failed'];
const KINDS = ['succeeded', 'http_error', 'error', 'missing'];
const JOB_ORIGINS = ['none', 'new', 'resumed', 'following', 'adopted'];

// How often wait() looks at the batch (obatch_poll with timeout 0, which
// never blocks): soon after a change, then less often, up to the cap.
const TICK_MIN_MS = 10;
const TICK_MAX_MS = 250;
// results() gives the event loop a turn after this many results.
const RESULTS_PER_TURN = 256;

/** A plain info object from the raw one: phase and jobOrigin as names, phaseCode as the number. */
function toInfo(r) {
  const info = {
    ...r,
    phase: PHASES[r.phase] || String(r.phase),
    phaseCode: r.phase,
    jobOrigin: JOB_ORIGINS[r.jobOrigin] || String(r.jobOrigin),
  };
  return info;
}

/**
 * One part of a job (obatch_part_info / obatch_check_part): the fields a
 * part has, phase as a name and phaseCode as the number.
 */
function toPartInfo(index, r) {
  return {
    index,
    phase: PHASES[r.phase] || String(r.phase),
    phaseCode: r.phase,
    model: r.model,
    batchId: r.batchId,
    remoteStatus: r.remoteStatus,
    requestsAdded: r.requestsAdded,
    requestsTotal: r.requestsTotal,
    requestsCompleted: r.requestsCompleted,
    requestsFailed: r.requestsFailed,
    bytesTotal: r.bytesTotal,
    tokensEstimated: r.tokensEstimated,
    errorMessage: r.errorMessage,
  };
}

/**
 * Every part through `partAt(index)` (a raw call returning [rc, info]),
 * from 0 until ENOTFOUND; other failures go to `check(rc)`.
 */
function readParts(partAt, check) {
  const parts = [];
  for (let index = 0; ; index++) {
    const [rc, info] = partAt(index);
    if (rc === codes.ENOTFOUND) return parts;
    check(rc);
    parts.push(toPartInfo(index, info));
  }
}

/** A plain result object: the parsed body and the raw JSON. */
function toResult(r) {
  let body = null;
  if (r.bodyJson != null) {
    try {
      body = JSON.parse(r.bodyJson);
    } catch {
      body = null; // the raw text is still in bodyJson
    }
  }
  const kind = KINDS[r.kind] || String(r.kind);
  return {
    customId: r.customId,
    index: r.index,
    kind,
    ok: kind === 'succeeded',
    statusCode: r.statusCode,
    body,
    bodyJson: r.bodyJson,
    line: r.line,
    requestId: r.requestId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
  };
}

/** Request bodies: objects become JSON text; JSON text passes unchanged. */
function bodyText(body, model) {
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body === 'string') {
    if (!model) return body;
    let parsed;
    try {
      parsed = JSON.parse(body);
    } catch {
      return body; // the library reports the bad JSON, with its position
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || 'model' in parsed) {
      return body;
    }
    return JSON.stringify({ model, ...parsed });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw obatchError(codes.EJSON, 'obatch: a request body is an object or its JSON text');
  }
  if (model && body.model === undefined) body = { model, ...body };
  try {
    return JSON.stringify(body);
  } catch (err) {
    throw obatchError(codes.EJSON, `obatch: the body cannot be converted to JSON: ${err.message}`, {
      cause: err,
    });
  }
}

function optionalString(value, what) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`obatch: ${what} must be a string`);
  return value;
}

// The safety net: a Batch that is garbage collected without close() frees
// its handle here. The held value is the raw handle, never the Batch.
const registry = new FinalizationRegistry((handle) => raw.obatch_destroy(handle));

function newHandle(make, what) {
  const [rc, handle] = make();
  if (rc !== 0 || !handle) {
    const code = rc || codes.EINTERNAL;
    // The library's own words (this thread's obatch_last_error(NULL), read at
    // once): "unknown provider 'x' (known: ...)", not only the code's name.
    const message = (rc !== 0 && raw.obatch_last_error(null)) || strerror(code);
    throw obatchError(code, `obatch: ${what}: ${message}`);
  }
  return handle;
}

/**
 * One batch: add requests, submit, wait, read the results.
 * Every method throws (or rejects with) an ObatchError on failure.
 */
class Batch {
  /**
   * @param {object} options config keys in camelCase (provider, baseUrl,
   *   apiKey, endpoint, completionWindow, metadata: {...}, workDir, resultsDir,
   *   outputPath, errorPath, customIdPrefix, pollIntervalMs,
   *   pollMaxIntervalMs, maxRetries, connectTimeoutMs, requestTimeoutMs,
   *   maxRequests, maxBytes, split, maxEnqueuedTokens, maxRunningBatches,
   *   state, forceNew, mode, directBelow, deadline, concurrency, rpm, tpm),
   *   plus `model`: put into every body without one.
   */
  constructor(options = {}, _handle = undefined) {
    this._model = options && options.model ? String(options.model) : null;
    this._prefix = options && options.customIdPrefix != null ? String(options.customIdPrefix) : 'request';
    // Requests added so far, counted here: asking the library (obatch_info)
    // on every add copies a whole info object and made add 10x slower.
    this._added = 0;
    this._handle =
      _handle ||
      withConfig(options, (conf) => newHandle(() => raw.obatch_create(conf), 'cannot create the batch'));
    registry.register(this, this._handle, this);
  }

  /** Attaches to a batch that exists at the provider (options.provider is required). */
  static resume(batchId, options = {}) {
    if (typeof batchId !== 'string') throw new TypeError('obatch: batchId must be a string');
    const handle = withConfig(options, (conf) =>
      newHandle(() => raw.obatch_resume(conf, batchId), `cannot resume batch ${batchId}`),
    );
    return new Batch(options, handle);
  }

  /**
   * A new batch (not submitted) of the requests of an ended job of the
   * journal that have no result (its batch expired or was cancelled), read
   * again from the job's input file (its requests came from addFile). jobId
   * is a job id, a unique prefix of one (4+ characters) or a batch id;
   * options.state names the journal. ENOTFOUND for an unknown job, ESTATE
   * when it has not ended or nothing is missing.
   */
  static retryMissing(jobId, options = {}) {
    if (typeof jobId !== 'string') throw new TypeError('obatch: jobId must be a string');
    const handle = withConfig(options, (conf) => {
      const [rc, h, errstr] = raw.obatch_retry_missing(conf, jobId);
      if (rc !== 0 || !h) {
        if (h) raw.obatch_destroy(h);
        const code = rc || codes.EINTERNAL;
        throw obatchError(code, `obatch: cannot retry job ${jobId}: ${errstr || strerror(code)}`);
      }
      return h;
    });
    const batch = new Batch(options, handle);
    // Generated custom_ids of later add() calls go on from the retried requests.
    batch._added = batch.info().requestsAdded;
    return batch;
  }

  /**
   * Opens result files already on disk; nothing is sent. The batch is done
   * at once: read it with results() / lookup(). (Go: obatch.FromFiles, Ruby:
   * Batch.from_files.)
   */
  static fromFiles({ inputPath, outputPath, errorPath } = {}, options = undefined) {
    const input = optionalString(inputPath, 'inputPath');
    const output = optionalString(outputPath, 'outputPath');
    const errors = optionalString(errorPath, 'errorPath');
    const make = (conf) =>
      newHandle(() => raw.obatch_open(conf, input, output, errors), 'cannot open the result files');
    const handle = options ? withConfig(options, make) : make(null);
    return new Batch(options || {}, handle);
  }

  _h() {
    if (!this._handle) throw closedError('batch');
    return this._handle;
  }

  _check(rc, handle = this._handle) {
    if (rc < 0) throw obatchError(rc, raw.obatch_last_error(handle) || strerror(rc));
    return rc;
  }

  /**
   * Appends one request. `body` is an object (converted to JSON) or JSON
   * text. Returns its custom_id (options.customId, or the generated
   * "<customIdPrefix>-N").
   */
  add(body, { customId, endpoint } = {}) {
    const h = this._h();
    const id = optionalString(customId, 'customId');
    const text = bodyText(body, this._model);
    this._check(raw.obatch_add(h, text, id, optionalString(endpoint, 'endpoint')));
    this._added++;
    if (id !== null) return id;
    return `${this._prefix}-${this._added}`;
  }

  /**
   * Appends one request per line of `bodies` (JSONL: a Buffer or a string,
   * one JSON body per line, the last newline optional), each with add's
   * checks and a generated custom_id, all or nothing: on the first bad body
   * nothing of the call is added and the error names its line ("line 7:
   * ..."). Parsed as one document stream: much faster than one add per
   * body. Returns how many requests it added.
   */
  addMany(bodies, { endpoint } = {}) {
    const h = this._h();
    if (typeof bodies !== 'string' && !ArrayBuffer.isView(bodies)) {
      throw new TypeError('obatch: bodies must be a Buffer or a string');
    }
    const [rc, added] = raw.obatch_add_many(h, bodies, optionalString(endpoint, 'endpoint'));
    this._check(rc);
    this._added += added;
    return added;
  }

  /** Appends one complete input line ({custom_id, method, url, body}), an object or its JSON. */
  addLine(line) {
    const h = this._h();
    const text = typeof line === 'string' ? line : JSON.stringify(line);
    if (typeof text !== 'string') throw new TypeError('obatch: a line is an object or its JSON text');
    this._check(raw.obatch_add_line(h, text));
    this._added++;
  }

  /** Appends every line of a JSONL file, all or nothing. */
  addFile(path) {
    const h = this._h();
    if (typeof path !== 'string') throw new TypeError('obatch: path must be a string');
    this._check(raw.obatch_add_file(h, path));
    this._added = raw.obatch_info(h)[1].requestsAdded;
  }

  /** Queues the upload and the batch creation; resolves at once with the info. */
  async submit() {
    const h = this._h();
    this._check(raw.obatch_submit(h));
    return this.info();
  }

  /** The batch's state now (never blocks). */
  info() {
    const h = this._h();
    const [rc, info] = raw.obatch_info(h);
    this._check(rc);
    return toInfo(info);
  }

  /**
   * The batches of the job ("parts"), in input order, as of now: an input
   * over the provider's limits of one batch (or config maxRequests /
   * maxBytes) runs as several; a job of one batch has one part, the job
   * itself. Empty before submit().
   */
  parts() {
    const h = this._h();
    this._check(raw.obatch_info(h)[0]); // the parts as of now
    return readParts((index) => raw.obatch_part_info(h, index), (rc) => this._check(rc, h));
  }

  /**
   * Resolves with the final info when the batch has completed. Rejects with
   * an ObatchError when it ended otherwise: EEXPIRED / ECANCELLED (the
   * finished results can still be read: results(), lookup()), EFAILED or the
   * error that stopped it, ETIMEOUT after `timeoutMs` (the batch goes on);
   * `err.info` is the batch's state then. The event loop is never blocked:
   * the batch is looked at with a zero timeout on a timer.
   *
   * @param {{onProgress?: (info) => void, timeoutMs?: number, signal?: AbortSignal}} options
   *   onProgress is called with the info whenever it changes (and once at the start).
   */
  wait({ onProgress, timeoutMs, signal } = {}) {
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new TypeError('obatch: onProgress must be a function');
    }
    const deadline = timeoutMs == null || timeoutMs < 0 ? Infinity : Date.now() + Number(timeoutMs);
    return new Promise((resolve, reject) => {
      let timer = null;
      let tick = TICK_MIN_MS;
      let last = null;
      const finish = (fn, value) => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (signal) signal.removeEventListener('abort', onAbort);
        fn(value);
      };
      const onAbort = () => finish(reject, signal.reason);
      if (signal) {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const step = () => {
        timer = null;
        try {
          const h = this._h();
          const [rc, rawInfo] = raw.obatch_poll(h, 0);
          this._check(rc);
          const info = toInfo(rawInfo);
          const key = progressKey(info);
          if (key !== last) {
            last = key;
            tick = TICK_MIN_MS;
            if (onProgress) onProgress(info);
          } else {
            tick = Math.min(TICK_MAX_MS, Math.ceil(tick * 1.5));
          }
          if (info.phaseCode === raw.OBATCH_PHASE_DONE || info.phaseCode === raw.OBATCH_PHASE_FAILED) {
            // It has ended, so obatch_wait returns at once, with the C API's
            // own outcome (and message) for how it ended.
            const [wrc, endInfo] = raw.obatch_wait(h, 0);
            const final = toInfo(endInfo);
            if (wrc === 0) return finish(resolve, final);
            return finish(
              reject,
              obatchError(wrc, raw.obatch_last_error(h) || strerror(wrc), { info: final }),
            );
          }
          if (Date.now() >= deadline) {
            return finish(
              reject,
              obatchError(codes.ETIMEOUT, 'obatch: wait ran out of time; the batch goes on', { info }),
            );
          }
          timer = setTimeout(step, Math.max(0, Math.min(tick, deadline - Date.now())));
        } catch (err) {
          finish(reject, err);
        }
      };
      step();
    });
  }

  /** Asks the provider to cancel the batch; wait() then ends with ECANCELLED. */
  async cancel() {
    this._check(raw.obatch_cancel(this._h()));
  }

  /**
   * Every result in input order, failures and missing ones included:
   * `for await (const r of batch.results())`. Starts from the first result
   * each time; read one iteration at a time per batch.
   */
  async *results() {
    let n = 0;
    for (const r of this.resultsSync()) {
      yield r;
      if (++n % RESULTS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The same as results(), synchronously: `for (const r of batch.resultsSync())`. */
  *resultsSync() {
    this._check(raw.obatch_rewind(this._h()));
    for (;;) {
      const h = this._h(); // the loop's body may have closed the batch
      const [rc, r] = raw.obatch_fetch(h);
      if (rc === codes.END) return;
      this._check(rc, h);
      yield toResult(r);
    }
  }

  /** The result of one custom_id; throws ENOTFOUND when the batch has none. */
  lookup(customId) {
    const h = this._h();
    if (typeof customId !== 'string') throw new TypeError('obatch: customId must be a string');
    const [rc, r] = raw.obatch_lookup(h, customId);
    this._check(rc);
    return toResult(r);
  }

  /** Path of the local input file (JSONL). */
  get inputPath() {
    return raw.obatch_input_path(this._h());
  }

  /** What went wrong last on this batch ("" when nothing). */
  get lastError() {
    return this._handle ? raw.obatch_last_error(this._handle) : '';
  }

  get closed() {
    return this._handle === null;
  }

  /**
   * Frees the handle (idempotent). A batch running at the provider keeps
   * running there: Batch.resume(batchId, options) picks it up again.
   */
  close() {
    const h = this._handle;
    if (!h) return;
    this._handle = null;
    registry.unregister(this);
    raw.obatch_destroy(h);
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Batch.prototype[Symbol.dispose] = Batch.prototype.close;
}

function progressKey(i) {
  return [
    i.phaseCode,
    i.remoteStatus,
    i.requestsTotal,
    i.requestsCompleted,
    i.requestsFailed,
    i.bytesUploaded,
    i.bytesDownloaded,
    i.partsSubmitted,
    i.partsRunning,
    i.partsEnded,
    i.partsFailed,
    // direct mode: requests sent and retried (requestsCompleted is above)
    i.mode,
    i.requestsInFlight,
    i.requestsRetried,
    i.responses429,
  ].join('|');
}

module.exports = {
  Batch, toInfo, toPartInfo, readParts, toResult, bodyText, optionalString, PHASES, KINDS, JOB_ORIGINS,
};
