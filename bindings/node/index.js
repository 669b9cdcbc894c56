'use strict';
/**
 * obatch for Node: the OpenAI-style Batch API as one call.
 *
 *   const { Batch } = require('obatch');
 *   const batch = new Batch({ provider: 'openai', model: 'gpt-4o-mini' });
 *   batch.add({ messages: [{ role: 'user', content: 'Say hi' }] }, { customId: 'q1' });
 *   await batch.submit();
 *   await batch.wait({ onProgress: (i) => console.log(i.phase, i.remoteStatus) });
 *   for await (const r of batch.results()) console.log(r.customId, r.body);
 *   batch.close();
 *
 *   const q = await Queue.open({ store: 'queue.db', flushAge: '10m' }); // deferred requests
 *   const ticket = await q.put({ model: 'gpt-4o-mini', messages: [...] });
 *   const entry = await q.wait(ticket); // while a worker runs `await q.work()` in a loop
 *
 * A thin layer over the SWIG-generated raw layer (obatch.node), which wraps
 * the C API of libobatch and nothing else.
 */
const raw = require('./lib/addon');
const errors = require('./lib/errors');
const { ObatchError, codes, codeName, strerror } = errors;
const { Batch, PHASES, KINDS, JOB_ORIGINS } = require('./lib/batch');
const { listBatches, allBatches, retrieve, cancelBatch, checkFile } = require('./lib/remote');
const { listJobs, pruneJobs } = require('./lib/jobs');
const { countTokens, countTextTokens, estimateFile } = require('./lib/tokens');
const { Queue, QUEUE_STATES } = require('./lib/queue');

// The error classes, one per kind: AuthError, ExpiredError, ... (lib/errors.js).
const errorClasses = Object.fromEntries(
  Object.entries(errors).filter(([name, value]) => typeof value === 'function' && /Error$/.test(name)),
);

module.exports = {
  Batch,
  ...errorClasses,
  ObatchError,
  codes,
  codeName,
  strerror,
  listBatches,
  allBatches,
  retrieve,
  cancelBatch,
  checkFile,
  listJobs,
  pruneJobs,
  countTokens,
  countTextTokens,
  estimateFile,
  Queue,
  /** Opens result files already on disk: Batch.fromFiles(paths, options). */
  openResults: (paths, options) => Batch.fromFiles(paths, options),
  phases: PHASES,
  resultKinds: KINDS,
  jobOrigins: JOB_ORIGINS,
  queueStates: QUEUE_STATES,
  /** The version of libobatch loaded at run time ("0.1.0"). */
  version: raw.obatch_version(),
  versionNumber: raw.obatch_version_number(),
  /** The raw SWIG layer (the C API one to one); for what the wrapper does not cover. */
  raw,
};
