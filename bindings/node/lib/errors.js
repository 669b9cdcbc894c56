'use strict';
const raw = require('./addon');

/** Status codes of the C API by name: codes.EEXPIRED === -20. */
const codes = Object.freeze(
  Object.fromEntries(
    Object.keys(raw)
      .filter((k) => /^OBATCH_(OK|END|E[A-Z]+)$/.test(k))
      .map((k) => [k.slice('OBATCH_'.length), raw[k]]),
  ),
);
const names = new Map(Object.entries(codes).map(([name, code]) => [code, name]));

/** The name of a code ("EEXPIRED"), or "E<code>" for a number the binding does not know. */
function codeName(code) {
  return names.get(code) || `E${code}`;
}

/** obatch_strerror: what a code means ("the batch expired"). */
function strerror(code) {
  return raw.obatch_strerror(code);
}

/**
 * Every failure of the library. `code` is the C API's negative status code
 * (compare with `codes.X`), `codeName` its name ("EEXPIRED"), `info` the
 * batch's state when the error came from a batch that ended (wait()),
 * `entry` a queued request's state when Queue#wait ran out of time.
 */
class ObatchError extends Error {
  constructor(code, message, options = {}) {
    super(message || strerror(code), options.cause ? { cause: options.cause } : undefined);
    this.name = 'ObatchError';
    this.code = code;
    this.codeName = codeName(code);
    if (options.info) this.info = options.info;
    if (options.entry) this.entry = options.entry;
  }
}

module.exports = { ObatchError, codes, codeName, strerror };
