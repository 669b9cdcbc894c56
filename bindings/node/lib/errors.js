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
 * Every failure of the library, as Node's own errors are: `code` is the
 * name ("EAUTH", "EEXPIRED"; compare with a string), `errno` the C API's
 * negative number (codes.EAUTH), and the class says the kind (AuthError,
 * ExpiredError, ...: the same names as in the Ruby binding). `info` is the
 * batch's state when the error is how a batch ended (wait()), `entry` a
 * queued request's state when Queue#wait ran out of time.
 */
class ObatchError extends Error {
  constructor(errno, message, options = {}) {
    super(message || strerror(errno), options.cause ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = codeName(errno);
    this.errno = errno;
    /** The same as code (kept for code written against 0.1's numeric code). */
    this.codeName = this.code;
    if (options.info) this.info = options.info;
    if (options.entry) this.entry = options.entry;
  }
}

// One class per kind, as in Ruby (lib/obatch/errors.rb) and Go's sentinels.
class InvalidArgumentError extends ObatchError {}
class ClosedError extends InvalidArgumentError {}
class OutOfMemoryError extends ObatchError {}
class ConfigError extends ObatchError {}
class RequestError extends ObatchError {}
class JSONError extends RequestError {}
class InvalidRequestError extends RequestError {}
class DuplicateIdError extends RequestError {}
class LimitError extends RequestError {}
class ModelError extends RequestError {}
class StateError extends ObatchError {}
class FileError extends ObatchError {}
class ProviderError extends ObatchError {}
class AuthError extends ObatchError {}
class RemoteError extends ObatchError {}
class NetworkError extends RemoteError {}
class HTTPError extends RemoteError {}
class ProtocolError extends RemoteError {}
class InsecureError extends ObatchError {}
class TimeoutError extends ObatchError {}
class NotFoundError extends ObatchError {}
class BatchEndedError extends ObatchError {}
class FailedError extends BatchEndedError {}
class ExpiredError extends BatchEndedError {}
class CancelledError extends BatchEndedError {}
class InternalError extends ObatchError {}
/** EABORTED: the call was ended by its AbortSignal (cause: signal.reason). */
class AbortError extends ObatchError {}

const classes = {
  InvalidArgumentError, ClosedError, OutOfMemoryError, ConfigError, RequestError, JSONError,
  InvalidRequestError, DuplicateIdError, LimitError, ModelError, StateError, FileError,
  ProviderError, AuthError, RemoteError, NetworkError, HTTPError, ProtocolError, InsecureError,
  TimeoutError, NotFoundError, BatchEndedError, FailedError, ExpiredError, CancelledError,
  InternalError, AbortError,
};

const byName = {
  EINVAL: InvalidArgumentError, ENOMEM: OutOfMemoryError, ECONFIG: ConfigError, EJSON: JSONError,
  EREQUEST: InvalidRequestError, EDUPLICATE: DuplicateIdError, ELIMIT: LimitError,
  EMODEL: ModelError, ESTATE: StateError, EIO: FileError, EPROVIDER: ProviderError,
  EAUTH: AuthError, ENETWORK: NetworkError, EHTTP: HTTPError, EPROTOCOL: ProtocolError,
  EINSECURE: InsecureError, ETIMEOUT: TimeoutError, ENOTFOUND: NotFoundError,
  EFAILED: FailedError, EEXPIRED: ExpiredError, ECANCELLED: CancelledError,
  EINTERNAL: InternalError, EABORTED: AbortError,
};

/** The error of a failed call: an instance of the class of its code. */
function obatchError(errno, message, options) {
  const Kind = byName[codeName(errno)] || ObatchError;
  return new Kind(errno, message, options);
}

/** The error of a call on a closed Batch or Queue (EINVAL, as in Go and Ruby). */
function closedError(what) {
  return new ClosedError(codes.EINVAL, `obatch: the ${what} is closed`);
}

module.exports = { ObatchError, obatchError, closedError, codes, codeName, strerror, ...classes };
