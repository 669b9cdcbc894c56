'use strict';
// Tokens and cost before anything is sent: one request's prompt tokens as
// OpenAI counts them, a text's tokens, and what an input file will cost.
// The counts are local CPU work (no file, no network) and synchronous;
// estimateFile reads a whole file on libuv's thread pool, as checkFile does,
// and takes an AbortSignal ({signal}).
const raw = require('./addon');
const { codes, strerror, obatchError } = require('./errors');
const { withCall } = require('./config');

function fail(rc, errstr, what) {
  const code = rc || codes.EINTERNAL;
  return obatchError(code, errstr || `obatch: ${what}: ${strerror(code)}`);
}

/**
 * A request body as JSON text: a string (or Buffer) as it is, anything else
 * through JSON.stringify. Whether it is an object is the library's to say
 * ("the request body is not a JSON object"), so arrays and numbers get its
 * message too.
 */
function bodyJson(body) {
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body === 'string') return body;
  let text;
  try {
    text = JSON.stringify(body);
  } catch (err) {
    throw obatchError(codes.EJSON, `obatch: count tokens: the body cannot be converted to JSON: ${err.message}`, {
      cause: err,
    });
  }
  if (text === undefined) {
    throw obatchError(codes.EJSON, `obatch: count tokens: the request body is not a JSON object (${typeof body})`);
  }
  return text;
}

/**
 * The prompt tokens of one request body for the endpoint `url`
 * ("/v1/chat/completions", "/v1/embeddings", "/v1/responses", ...), as
 * OpenAI counts them: {encoding, encodingAssumed, promptTokens,
 * outputTokens (an upper bound), outputAssumed, images, imagesAssumed,
 * approximate}. body: an object or its JSON text. EJSON for a body that is
 * not a JSON object.
 */
function countTokens(url, body) {
  if (typeof url !== 'string') throw new TypeError('obatch: url must be a string');
  if (url.includes('\0')) throw obatchError(codes.EINVAL, 'obatch: count tokens: a NUL byte in the url');
  const text = bodyJson(body);
  // Raw NULs are not JSON (JSON.stringify writes \u0000), and C would stop at the first.
  if (text.includes('\0')) throw obatchError(codes.EJSON, 'obatch: count tokens: a NUL byte in the JSON text');
  const [rc, tokens, errstr] = raw.obatch_count_tokens(url, text);
  if (rc !== 0 || !tokens) throw fail(rc, errstr, 'count tokens');
  return tokens;
}

/**
 * The tokens of `text` alone with an encoding ("o200k_base",
 * "cl100k_base"), as tiktoken's encode_ordinary counts them. EINVAL for an
 * unknown encoding.
 */
function countTextTokens(encoding, text) {
  if (typeof encoding !== 'string') throw new TypeError('obatch: encoding must be a string');
  if (Buffer.isBuffer(text)) text = text.toString('utf8');
  if (typeof text !== 'string') throw new TypeError('obatch: text must be a string');
  if (encoding.includes('\0')) {
    throw obatchError(codes.EINVAL, 'obatch: count text tokens: a NUL byte in the encoding name');
  }
  const [rc, count] = raw.obatch_count_text_tokens(encoding, text);
  if (rc !== 0) {
    // The C call has no message of its own: an unknown encoding is its one
    // invalid argument here.
    throw fail(
      rc,
      rc === codes.EINVAL
        ? `obatch: count text tokens: unknown encoding '${encoding}' (${strerror(rc)}; o200k_base or cl100k_base)`
        : '',
      'count text tokens',
    );
  }
  return count;
}

/**
 * What an input file will cost, before anything is sent:
 * {models: [row per model, in the order their first requests come], total,
 * prices ("built in, DATE" or "PATH, DATE")}. Each row: {model (""
 * for the total), encoding, requests, promptTokens (exact), outputTokens
 * (an upper bound), encodingAssumed, outputAssumed, images, imagesAssumed,
 * approximate (request counts), batches, hasCost, batchCostUsd,
 * directCostUsd}; the costs are null for a model without a price (a cost is
 * never guessed; the total's too, then). options.prices: a price table of
 * the format of data/prices/openai.tsv (default: the built-in one); the
 * other options are the config. The file gets every check of addFile first:
 * a file with a problem rejects (checkFile lists them).
 */
async function estimateFile(path, options = {}, { signal } = {}) {
  if (typeof path !== 'string') throw new TypeError('obatch: path must be a string');
  const { prices = null, ...config } = options || {};
  if (prices !== null && prices !== undefined && typeof prices !== 'string') {
    throw new TypeError('obatch: options.prices must be a path (a string)');
  }
  return withCall(config, signal, async (conf) => {
    const [rc, e, errstr] = await raw.obatch_estimate_file_async(conf, path, prices ?? null);
    if (rc !== 0 || !e) {
      if (e) raw.obatch_estimate_destroy(e);
      throw fail(rc, errstr, `cannot estimate ${path}`);
    }
    try {
      const rows = [];
      for (;;) {
        const [nrc, row] = raw.obatch_estimate_next(e);
        if (nrc === codes.END) break;
        if (nrc !== 0 || !row) throw fail(nrc, '', `cannot estimate ${path}`);
        rows.push(row);
      }
      const total = rows.pop();
      if (!total || total.model !== '') throw fail(codes.EINTERNAL, '', `cannot estimate ${path}: no total row`);
      return { models: rows, total, prices: raw.obatch_estimate_prices(e) };
    } finally {
      raw.obatch_estimate_destroy(e);
    }
  });
}

module.exports = { countTokens, countTextTokens, estimateFile };
