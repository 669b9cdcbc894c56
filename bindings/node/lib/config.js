'use strict';
// Options objects -> a C config handle (obatch_config_t).
const raw = require('./addon');
const { ObatchError } = require('./errors');

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
  if (rc !== 0 || !conf) throw new ObatchError(rc || -2, 'obatch: cannot make a config');
  try {
    for (const [key, value] of pairs) {
      const [src, err] = raw.obatch_config_set(conf, key, value);
      if (src !== 0) throw new ObatchError(src, err || `bad configuration key '${key}'`);
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

module.exports = { withConfig, withConfigAsync, configPairs, snakeCase };
