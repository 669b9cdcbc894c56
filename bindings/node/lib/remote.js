'use strict';
// Calls that ask the provider (or read a file) without a batch handle. Each
// C call runs on libuv's thread pool, never on the main thread, and takes an
// AbortSignal ({signal}) that ends it at once (lib/config.js withCall).
const raw = require('./addon');
const { codes, codeName, strerror, obatchError } = require('./errors');
const { withCall } = require('./config');
const { toInfo, readParts } = require('./batch');

function fail(rc, errstr, what) {
  return obatchError(rc, errstr || `obatch: ${what}: ${strerror(rc)}`);
}

/** Reads a whole page (obatch_list_next until END) and frees it. */
function readPage(list) {
  try {
    const batches = [];
    for (;;) {
      const [rc, info] = raw.obatch_list_next(list);
      if (rc === codes.END) break;
      if (rc !== 0) throw fail(rc, '', 'reading the list');
      batches.push(toInfo(info));
    }
    return { batches, hasMore: raw.obatch_list_has_more(list) === 1, lastId: raw.obatch_list_last_id(list) };
  } finally {
    raw.obatch_list_destroy(list);
  }
}

async function pageCall(what, call) {
  const [rc, list, errstr] = await call();
  if (rc !== 0 || !list) {
    if (list) raw.obatch_list_destroy(list);
    throw fail(rc || codes.EINTERNAL, errstr, what);
  }
  return readPage(list);
}

/**
 * One page of the provider's batches, newest first: {batches, hasMore, lastId}.
 * options: the config (provider is required); after: a batch id; limit:
 * 1..100 (20); signal: an AbortSignal that ends the call.
 */
async function listBatches(options = {}, { after, limit, signal } = {}) {
  if (after != null && typeof after !== 'string') throw new TypeError('obatch: after must be a string');
  const n = limit == null ? 0 : Number(limit);
  if (!Number.isInteger(n) || n < 0) throw new TypeError('obatch: limit must be an integer 1..100');
  return withCall(options, signal, (conf) =>
    pageCall('cannot list the batches', () => raw.obatch_list_async(conf, after ?? null, n)),
  );
}

/**
 * Every batch of the provider, newest first, fetching pages of `pageSize`
 * (100) as the loop goes: `for await (const info of allBatches(options))`.
 */
async function* allBatches(options = {}, { pageSize = 100, signal } = {}) {
  let after = null;
  for (;;) {
    const page = await listBatches(options, { after, limit: pageSize, signal });
    yield* page.batches;
    if (!page.hasMore || !page.lastId) return;
    after = page.lastId;
  }
}

async function byId(what, batchId, options, signal, call) {
  if (typeof batchId !== 'string') throw new TypeError('obatch: batchId must be a string');
  return withCall(options, signal, async (conf) => {
    const page = await pageCall(`cannot ${what} ${batchId}`, () => call(conf, batchId));
    if (page.batches.length === 0) throw obatchError(codes.ENOTFOUND, `obatch: no batch ${batchId}`);
    return page.batches[0];
  });
}

/** One remote batch by id, asked for now: its info. ENOTFOUND when there is none. */
async function retrieve(batchId, options = {}, { signal } = {}) {
  return byId('retrieve', batchId, options, signal, raw.obatch_retrieve_async);
}

/** Asks the provider to cancel a remote batch by id; its info after the call. */
async function cancelBatch(batchId, options = {}, { signal } = {}) {
  return byId('cancel', batchId, options, signal, raw.obatch_cancel_id_async);
}

/**
 * Every problem of a JSONL input file, found without sending anything:
 * {problemCount, problems: [{line, code, codeName, message}], info, parts}.
 * parts: the batches submitting the file would make (config split "auto"),
 * each with its model, requestsAdded, bytesTotal and tokensEstimated.
 */
async function checkFile(path, options = {}, { maxProblems, signal } = {}) {
  if (typeof path !== 'string') throw new TypeError('obatch: path must be a string');
  const max = maxProblems == null ? 0 : Number(maxProblems);
  return withCall(options, signal, async (conf) => {
    const [rc, check, errstr] = await raw.obatch_check_file_async(conf, path, max);
    if (rc !== 0 || !check) {
      if (check) raw.obatch_check_destroy(check);
      throw fail(rc || codes.EINTERNAL, errstr, `cannot check ${path}`);
    }
    try {
      const problems = [];
      for (;;) {
        const [prc, p] = raw.obatch_check_next(check);
        if (prc === codes.END) break;
        if (prc !== 0) throw fail(prc, '', `cannot check ${path}`);
        problems.push({ ...p, codeName: codeName(p.code) });
      }
      const [irc, info] = raw.obatch_check_info(check);
      if (irc !== 0) throw fail(irc, '', `cannot check ${path}`);
      const parts = readParts(
        (index) => raw.obatch_check_part(check, index),
        (rc) => {
          if (rc !== 0) throw fail(rc, '', `cannot check ${path}`);
        },
      );
      return { problemCount: Number(raw.obatch_check_problems(check)), problems, info: toInfo(info), parts };
    } finally {
      raw.obatch_check_destroy(check);
    }
  });
}

module.exports = { listBatches, allBatches, retrieve, cancelBatch, checkFile };
