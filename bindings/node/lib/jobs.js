'use strict';
// The local job journal (options.state, else $OBATCH_STATE, else the XDG
// state directory): its jobs, and forgetting the ended ones. The journal is
// opened on libuv's thread pool: a journal locked by another process never
// holds up the event loop.
const raw = require('./addon');
const { codes, strerror, obatchError } = require('./errors');
const { withCall } = require('./config');

function fail(rc, errstr, what) {
  const code = rc || codes.EINTERNAL;
  return obatchError(code, errstr || `obatch: ${what}: ${strerror(code)}`);
}

/**
 * The journal's jobs, newest first: {journalPath, jobs}. Each job is a
 * plain object with every obatch_job_t field (camelCase; times in unix
 * seconds; running a boolean). ESTATE when the journal is off.
 */
async function listJobs(options = {}) {
  return withCall(options, null, async (conf) => {
    const [rc, jobs, errstr] = await raw.obatch_jobs_open_async(conf);
    if (rc !== 0 || !jobs) {
      if (jobs) raw.obatch_jobs_destroy(jobs);
      throw fail(rc, errstr, 'cannot read the job journal');
    }
    try {
      const list = [];
      for (;;) {
        const [nrc, job] = raw.obatch_jobs_next(jobs);
        if (nrc === codes.END) break;
        if (nrc !== 0) throw fail(nrc, '', 'cannot read the job journal');
        list.push(job);
      }
      return { journalPath: raw.obatch_jobs_path(jobs), jobs: list };
    } finally {
      raw.obatch_jobs_destroy(jobs);
    }
  });
}

/**
 * Forgets the ended jobs (done, failed, abandoned) that no live process
 * holds; their result files stay. Resolves with how many were forgotten.
 */
async function pruneJobs(options = {}) {
  return withCall(options, null, async (conf) => {
    const [rc, pruned, errstr] = await raw.obatch_jobs_prune_async(conf);
    if (rc !== 0) throw fail(rc, errstr, 'cannot prune the job journal');
    return pruned;
  });
}

module.exports = { listJobs, pruneJobs };
