'use strict';
// Calls that ask the provider (or read a file) without a batch handle.
// Each is one synchronous C call underneath (one HTTP request for the remote
// ones, bounded by connectTimeoutMs / requestTimeoutMs); they return
// Promises so that they can move off the main thread without an API change.
const raw = require('./addon');
const { ObatchError, codes, codeName, strerror } = require('./errors');
const { withConfig } = require('./config');
const { toInfo, readParts } = require('./batch');

function fail(rc, errstr, what) {
  return new ObatchError(rc, errstr || `obatch: ${what}: ${strerror(rc)}`);
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

function pageCall(what, call) {
  const [rc, list, errstr] = call();
  if (rc !== 0 || !list) {
    if (list) raw.obatch_list_destroy(list);
    throw fail(rc || codes.EINTERNAL, errstr, what);
  }
  return readPage(list);
}

/**
 * One page of the provider's batches, newest first: {batches, hasMore, lastId}.
 * options: the config (provider is required); after: a batch id; limit: 1..100 (20).
 */
async function listBatches(options = {}, { after, limit } = {}) {
  if (after != null && typeof after !== 'string') throw new TypeError('obatch: after must be a string');
  const n = limit == null ? 0 : Number(limit);
  if (!Number.isInteger(n) || n < 0) throw new TypeError('obatch: limit must be an integer 1..100');
  return withConfig(options, (conf) =>
    pageCall('cannot list the batches', () => raw.obatch_list(conf, after ?? null, n)),
  );
}

/** One remote batch by id, asked for now: its info. ENOTFOUND when there is none. */
async function retrieve(batchId, options = {}) {
  if (typeof batchId !== 'string') throw new TypeError('obatch: batchId must be a string');
  return withConfig(options, (conf) => {
    const page = pageCall(`cannot retrieve ${batchId}`, () => raw.obatch_retrieve(conf, batchId));
    if (page.batches.length === 0) throw new ObatchError(codes.ENOTFOUND, `obatch: no batch ${batchId}`);
    return page.batches[0];
  });
}

/** Asks the provider to cancel a remote batch by id; its info after the call. */
async function cancelBatch(batchId, options = {}) {
  if (typeof batchId !== 'string') throw new TypeError('obatch: batchId must be a string');
  return withConfig(options, (conf) => {
    const page = pageCall(`cannot cancel ${batchId}`, () => raw.obatch_cancel_id(conf, batchId));
    if (page.batches.length === 0) throw new ObatchError(codes.ENOTFOUND, `obatch: no batch ${batchId}`);
    return page.batches[0];
  });
}

/**
 * Every problem of a JSONL input file, found without sending anything:
 * {problemCount, problems: [{line, code, codeName, message}], info, parts}.
 * parts: the batches submitting the file would make (config split "auto"),
 * each with its model, requestsAdded, bytesTotal and tokensEstimated.
 */
async function checkFile(path, options = {}, { maxProblems } = {}) {
  if (typeof path !== 'string') throw new TypeError('obatch: path must be a string');
  const max = maxProblems == null ? 0 : Number(maxProblems);
  const run = (conf) => {
    const [rc, check, errstr] = raw.obatch_check_file(conf, path, max);
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
  };
  return options ? withConfig(options, run) : run(null);
}

module.exports = { listBatches, retrieve, cancelBatch, checkFile };
