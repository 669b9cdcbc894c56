'use strict';
// Options objects -> a C config handle (obatch_config_t).
const raw = require('./addon');
const { ObatchError, obatchError } = require('./errors');

// Options the binding keeps for itself; never sent as config keys.
const LOCAL_OPTIONS = new Set(['model']);

/** camelCase -> snake_case: pollIntervalMs -> poll_interval_ms, baseUrl -> base_url. */
function snakeCase(key) {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The [key, value] string pairs an options object stands for. */
function configPairs(options) {
  if (options == null) return [];
  if (typeof options !== 'object') throw new TypeError('obatch: options must be an object');
  const pairs = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || LOCAL_OPTIONS.has(key)) continue;
    if (key === 'metadata') {
      if (value === null || typeof value !== 'object') {
        throw new TypeError('obatch: options.metadata must be an object of strings');
      }
      for (const [mk, mv] of Object.entries(value)) {
        if (mv !== undefined) pairs.push([`metadata.${mk}`, mv === null ? null : String(mv)]);
      }
      continue;
    }
    // metadata.* keys pass through as they are (their KEY part is the user's).
    const name = key.startsWith('metadata.') ? key : snakeCase(key);
    pairs.push([name, value === null ? null : String(value)]);
  }
  return pairs;
}

/** A config handle made from `options`; the caller destroys it. */
function newConfig(options) {
  const pairs = configPairs(options);
  const [rc, conf] = raw.obatch_config_new();
  if (rc !== 0 || !conf) throw obatchError(rc || -2, 'obatch: cannot make a config');
  try {
    for (const [key, value] of pairs) {
      const [src, err] = raw.obatch_config_set(conf, key, value);
      if (src !== 0) throw obatchError(src, err || `bad configuration key '${key}'`);
    }
  } catch (err) {
    raw.obatch_config_destroy(conf);
    throw err;
  }
  return conf;
}

/**
 * Runs fn(conf) with a fresh config made from `options`, and always
 * destroys the config afterwards (the library copies what it needs).
 */
function withConfig(options, fn) {
  const conf = newConfig(options);
  try {
    return fn(conf);
  } finally {
    raw.obatch_config_destroy(conf);
  }
}

/**
 * The same for an async fn(conf): the config lives until its Promise has
 * settled (a call on the thread pool may still be reading it before).
 */
async function withConfigAsync(options, fn) {
  const conf = newConfig(options);
  try {
    return await fn(conf);
  } finally {
    raw.obatch_config_destroy(conf);
  }
}

/** Throws (a TypeError) for a `signal` that is not an AbortSignal. */
function checkSignal(signal) {
  if (signal != null && !(signal instanceof AbortSignal)) {
    throw new TypeError('obatch: signal must be an AbortSignal');
  }
}

/**
 * Runs an async call(conf) that the library serves on libuv's thread pool,
 * with a fresh config made from `options` and, when `signal` is given, an
 * abort token attached to it that the signal's 'abort' triggers: the C call
 * in progress (a transfer, a back-off) then ends at once with EABORTED,
 * which rejects with an ObatchError whose cause is signal.reason. The
 * config and the token live until the call has settled.
 */
async function withCall(options, signal, call) {
  checkSignal(signal);
  if (signal && signal.aborted) {
    throw obatchError(raw.OBATCH_EABORTED, 'obatch: the call was aborted', { cause: signal.reason });
  }
  const conf = newConfig(options);
  let abort = null;
  let onAbort = null;
  try {
    if (signal) {
      const [rc, a] = raw.obatch_abort_new();
      if (rc !== 0 || !a) throw obatchError(rc || -2, 'obatch: cannot make an abort token');
      abort = a;
      raw.obatch_config_set_abort(conf, abort);
      onAbort = () => raw.obatch_abort_trigger(abort);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    try {
      return await call(conf);
    } catch (err) {
      if (signal && signal.aborted && err instanceof ObatchError && err.errno === raw.OBATCH_EABORTED) {
        err.cause = signal.reason;
      }
      throw err;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    raw.obatch_config_destroy(conf);
    if (abort) raw.obatch_abort_destroy(abort);
  }
}

module.exports = { withConfig, withConfigAsync, withCall, checkSignal, configPairs, snakeCase };
