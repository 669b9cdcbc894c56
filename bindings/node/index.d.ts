// TypeScript declarations of the obatch Node binding (index.js).

/** Config keys of the C API in camelCase (pollIntervalMs -> poll_interval_ms). */
export interface BatchOptions {
  /** "openai", "parasail", a registered provider, or "" (chosen from the first request's model). */
  provider?: string;
  /** Put into every request body that has no "model" (the binding's own option). */
  model?: string;
  /** API base, e.g. "https://api.openai.com/v1"; default: the provider's *_BASE_URL variable. */
  baseUrl?: string;
  /** Default: the provider's own variable (OPENAI_API_KEY, PARASAIL_API_KEY). */
  apiKey?: string;
  /** The batch endpoint, e.g. "/v1/embeddings"; default: inferred from the requests. */
  endpoint?: string;
  /** Default "24h". */
  completionWindow?: string;
  /** Metadata pairs sent with the batch (<= 16; keys <= 64, values <= 512 chars). */
  metadata?: Record<string, string>;
  workDir?: string;
  resultsDir?: string;
  outputPath?: string;
  errorPath?: string;
  /** Prefix of generated custom_ids (default "request": request-1, request-2, ...). */
  customIdPrefix?: string;
  pollIntervalMs?: number;
  pollMaxIntervalMs?: number;
  maxRetries?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Lower the provider's request limit per batch; with split "auto", parts of at most this many requests. */
  maxRequests?: number;
  /** Lower the provider's input size limit per batch. */
  maxBytes?: number;
  /**
   * "auto" (default): an input over the provider's limits per batch runs as a job of several
   * batches ("parts"), with one result set in input order; "off": one batch, an input over a
   * limit is refused.
   */
  split?: 'auto' | 'off';
  /** The provider's queue of enqueued prompt tokens per model (estimated); unset: learned. */
  maxEnqueuedTokens?: number;
  /** At most this many parts run at once (0: no cap). */
  maxRunningBatches?: number;
  /**
   * "batch" (default: the Batch API, half price, within 24 h), "direct" (each request as a normal
   * request: full price, results in minutes, also to a server without a Batch API) or "auto"
   * (direct below directBelow requests, or with a deadline shorter than 24 h).
   */
  mode?: 'batch' | 'direct' | 'auto';
  /** mode "auto": run direct below this many requests (default 100). */
  directBelow?: number;
  /** mode "auto": when the results are needed, e.g. "2h", "90m". */
  deadline?: string;
  /** Direct mode: requests in flight (default 64). */
  concurrency?: number;
  /** Direct mode: requests and prompt tokens per minute to stay under. */
  rpm?: number;
  tpm?: number;
  /**
   * The job journal (a file path; "off": none). Default: $OBATCH_STATE, else
   * $XDG_STATE_HOME/obatch/jobs.db, else ~/.local/state/obatch/jobs.db.
   */
  state?: string;
  /** 1 / "1": submit as a new job even when the journal has one for the same input. */
  forceNew?: string | number;
  /** A PEM file of CA certificates to trust for the server's certificate (a private CA). */
  caFile?: string;
  /** "on": /v1/chat/completions lines go to Anthropic as Messages requests (refused where they cannot). */
  translate?: 'on' | 'off';
  /** One metadata pair, as a key of its own ("metadata.project"): the same as metadata: {project}. */
  [key: `metadata.${string}`]: string | null | undefined;
}

export type Phase = 'building' | 'uploading' | 'creating' | 'waiting' | 'downloading' | 'done' | 'failed';

/**
 * How a submitted batch came to its job in the journal: 'none' (no journal,
 * or not submitted), 'new', 'resumed' (the same input was submitted before:
 * no second upload, no second batch), 'following' (another live process runs
 * the same job; this batch waits for it and then reads the results itself),
 * 'adopted' (this journal had no job for the input, but the provider had its
 * batch from another journal, made in the last 48 h: taken up, not paid for
 * again; told once the provider was asked, after submit).
 */
export type JobOrigin = 'none' | 'new' | 'resumed' | 'following' | 'adopted';

/** A snapshot of a batch (obatch_info_t, copied). Times are unix seconds, 0 when unknown. */
export interface Info {
  phase: Phase;
  phaseCode: number;
  provider: string;
  endpoint: string;
  batchId: string;
  /** "validating" ... "cancelled", or "". */
  remoteStatus: string;
  inputFileId: string;
  /** The downloaded output file; "" until downloaded. */
  outputPath: string;
  /** The downloaded error file; "" when the batch had none. */
  errorPath: string;
  requestsAdded: number;
  requestsTotal: number;
  requestsCompleted: number;
  requestsFailed: number;
  bytesTotal: number;
  bytesUploaded: number;
  bytesDownloaded: number;
  createdAt: number;
  /** The code that stopped the batch, 0 when none. */
  errorCode: number;
  errorMessage: string;
  model: string;
  outputFileId: string;
  errorFileId: string;
  completionWindow: string;
  inProgressAt: number;
  finalizingAt: number;
  completedAt: number;
  failedAt: number;
  expiredAt: number;
  cancellingAt: number;
  cancelledAt: number;
  expiresAt: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** The provider's batch object as JSON text, "" when none. */
  batchJson: string;
  /** The job in the journal (24 hex, also the batch's "obatch_job" metadata); "" when none. */
  jobId: string;
  jobOrigin: JobOrigin;
  /** The journal holding the job; "" when the journal is off. */
  journalPath: string;
  /**
   * The batches of the job ("parts"): 1 for a job of one batch. With more, batchId,
   * inputFileId, outputFileId, errorFileId and batchJson are "" (see Batch.parts()), the
   * counts are summed over the parts, and outputPath / errorPath are the merged files.
   */
  partsTotal: number;
  /** Parts whose batch was created. */
  partsSubmitted: number;
  /** Being run now (not to come, not ended, not failed). */
  partsRunning: number;
  /** Ended with results (completed, expired, cancelled). */
  partsEnded: number;
  /** Whose batch failed (no results). */
  partsFailed: number;
  /** Prompt tokens of the whole input, estimated (4 bytes a token). */
  tokensEstimated: number;
  /** The estimate over the parts whose batches run at the provider. */
  tokensEnqueued: number;
  /**
   * How the requests are sent (options.mode): "batch" (the Batch API) or "direct" (each as a
   * normal request). In direct mode batchId and the file ids are "", phase is 'waiting' while
   * requests are sent, remoteStatus "in_progress" then "completed", and requestsCompleted /
   * requestsFailed are the results written so far (2xx answers / error-file lines).
   */
  mode: 'batch' | 'direct' | string;
  /** Why that mode: the option, or what mode "auto" weighed (directBelow, deadline). */
  modeReason: string;
  /** Direct mode: requests sent and not yet answered. */
  requestsInFlight: number;
  /** Direct mode: sends again after a 408, 409, 429, 5xx or no answer. */
  requestsRetried: number;
  /** Direct mode: "too many requests" (429) answers seen. */
  responses429: number;
  /** Direct mode: requests sent in the last minute. */
  requestsPerMinute: number;
  /** Direct mode: their prompt tokens (estimated). */
  tokensPerMinute: number;
  /** Direct mode: the requests-per-minute limit followed, the lower of rpm and the server's; 0: none. */
  rpmLimit: number;
  /** Direct mode: the tokens-per-minute limit followed, the lower of tpm and the server's; 0: none. */
  tpmLimit: number;
}

/** One batch ("part") of a job (obatch_part_info / obatch_check_part, copied). */
export interface PartInfo {
  /** 0-based, in input order. */
  index: number;
  /** 'failed' also when its batch failed. */
  phase: Phase;
  phaseCode: number;
  model: string;
  /** "" until its batch is created. */
  batchId: string;
  remoteStatus: string;
  /** Its requests. */
  requestsAdded: number;
  requestsTotal: number;
  requestsCompleted: number;
  requestsFailed: number;
  bytesTotal: number;
  tokensEstimated: number;
  errorMessage: string;
}

export type ResultKind = 'succeeded' | 'http_error' | 'error' | 'missing';

/** One result (obatch_result_t, copied), with the body parsed and as raw JSON. */
export interface Result<Body = any> {
  customId: string;
  /** 0-based position in the input; -1 when unknown. */
  index: number;
  kind: ResultKind;
  /** kind === 'succeeded' */
  ok: boolean;
  /** HTTP status, 0 when none. */
  statusCode: number;
  /** The response body, parsed; null when there is none. */
  body: Body | null;
  /** The response body as JSON text. */
  bodyJson: string | null;
  /** The raw result line; null when the result is missing. */
  line: string | null;
  requestId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface AddOptions {
  /** Default: "<customIdPrefix>-N", N the 1-based position. */
  customId?: string | null;
  /** Default: the config's endpoint, or inferred from the body. */
  endpoint?: string | null;
}

export interface WaitOptions {
  /** Called with the info whenever it changes (and once at the start). */
  onProgress?: (info: Info) => void;
  /** Reject with ETIMEOUT after this long (the batch goes on). Default: no limit. */
  timeoutMs?: number;
  /** Stop waiting (rejects with the signal's reason; the batch goes on). */
  signal?: AbortSignal;
}

export interface ResultPaths {
  inputPath?: string | null;
  outputPath?: string | null;
  errorPath?: string | null;
}

export class Batch {
  constructor(options?: BatchOptions);
  /** Attaches to a batch that exists at the provider (options.provider is required). */
  static resume(batchId: string, options: BatchOptions): Batch;
  /**
   * A new batch (not submitted) of the requests of an ended job that have no
   * result, read again from the job's input file (its requests came from one addFile).
   * jobId: a job id, a unique prefix (4+ characters) or a batch id.
   * Throws ENOTFOUND for an unknown job, ESTATE when it has not ended or nothing is missing.
   */
  static retryMissing(jobId: string, options?: BatchOptions): Batch;
  /** Opens result files already on disk; nothing is sent. */
  static fromFiles(paths: ResultPaths, options?: BatchOptions): Batch;

  /** Appends one request (an object, or its JSON text); returns its custom_id. */
  add(body: object | string | Buffer, options?: AddOptions): string;
  /**
   * Appends one request per line of `bodies` (JSONL: one JSON body per line),
   * all or nothing; the error names the bad body's line. Returns how many
   * requests were added.
   */
  addMany(bodies: Buffer | Uint8Array | string, options?: { endpoint?: string }): number;
  /** Appends one complete input line {custom_id, method, url, body}. */
  addLine(line: object | string): void;
  /** Appends every line of a JSONL file, all or nothing. */
  addFile(path: string): void;
  /** Queues the upload and the batch creation; resolves at once. */
  submit(): Promise<Info>;
  /** The batch's state now (never blocks). */
  info(): Info;
  /**
   * Resolves with the final info when the batch completed; rejects with an
   * ObatchError (EEXPIRED, ECANCELLED, EFAILED, ETIMEOUT, ...) with `info` otherwise.
   */
  wait(options?: WaitOptions): Promise<Info>;
  /** Asks the provider to cancel the batch. */
  cancel(): Promise<void>;
  /** The job's batches in input order, as of now (a job of one batch: one); [] before submit(). */
  parts(): PartInfo[];
  /** Every result in input order, from the first one each time. */
  results<Body = any>(): AsyncGenerator<Result<Body>, void, undefined>;
  resultsSync<Body = any>(): Generator<Result<Body>, void, undefined>;
  /** The result of one custom_id; throws ENOTFOUND when there is none. */
  lookup<Body = any>(customId: string): Result<Body>;
  readonly inputPath: string;
  readonly lastError: string;
  readonly closed: boolean;
  /** Frees the handle (idempotent); the remote batch keeps running. */
  close(): void;
  [Symbol.dispose](): void;
}

export type CodeName =
  | 'OK' | 'END' | 'EINVAL' | 'ENOMEM' | 'ECONFIG' | 'EJSON' | 'EREQUEST' | 'EDUPLICATE'
  | 'ELIMIT' | 'EMODEL' | 'ESTATE' | 'EIO' | 'EPROVIDER' | 'EAUTH' | 'ENETWORK' | 'EHTTP'
  | 'EPROTOCOL' | 'EINSECURE' | 'ETIMEOUT' | 'ENOTFOUND' | 'EFAILED' | 'EEXPIRED'
  | 'ECANCELLED' | 'EINTERNAL' | 'EABORTED';

export const codes: Readonly<Record<CodeName, number>>;

/** Every failure of the library; the class says the kind (AuthError, ExpiredError, ...). */
export class ObatchError extends Error {
  constructor(errno: number, message?: string, options?: { info?: Info; entry?: QueueEntry; cause?: unknown });
  /** The class's name: "ObatchError", "AuthError", ... */
  readonly name: string;
  /** The code's name, as Node's own errors have: "EEXPIRED", ... */
  readonly code: CodeName | string;
  /** The C API's negative status code: codes.EEXPIRED, ... */
  readonly errno: number;
  /** The same as code. */
  readonly codeName: CodeName | string;
  /** The batch's state, when the error is how a batch ended (wait()). */
  readonly info?: Info;
  /** The request as it is, when Queue#wait ran out of time (ETIMEOUT). */
  readonly entry?: QueueEntry;
}
/** EINVAL */
export class InvalidArgumentError extends ObatchError {}
/** EINVAL: a call on a closed Batch or Queue. */
export class ClosedError extends InvalidArgumentError {}
/** ENOMEM */
export class OutOfMemoryError extends ObatchError {}
/** ECONFIG */
export class ConfigError extends ObatchError {}
/** A request refused when added: EJSON, EREQUEST, EDUPLICATE, ELIMIT, EMODEL. */
export class RequestError extends ObatchError {}
export class JSONError extends RequestError {}
export class InvalidRequestError extends RequestError {}
export class DuplicateIdError extends RequestError {}
export class LimitError extends RequestError {}
export class ModelError extends RequestError {}
/** ESTATE */
export class StateError extends ObatchError {}
/** EIO */
export class FileError extends ObatchError {}
/** EPROVIDER */
export class ProviderError extends ObatchError {}
/** EAUTH */
export class AuthError extends ObatchError {}
/** Talking to the API went wrong: ENETWORK, EHTTP, EPROTOCOL. */
export class RemoteError extends ObatchError {}
export class NetworkError extends RemoteError {}
export class HTTPError extends RemoteError {}
export class ProtocolError extends RemoteError {}
/** EINSECURE */
export class InsecureError extends ObatchError {}
/** ETIMEOUT: a wait ran out of time; the batch goes on. */
export class TimeoutError extends ObatchError {}
/** ENOTFOUND */
export class NotFoundError extends ObatchError {}
/** The batch ended without completing: EFAILED, EEXPIRED, ECANCELLED (with info). */
export class BatchEndedError extends ObatchError {}
export class FailedError extends BatchEndedError {}
export class ExpiredError extends BatchEndedError {}
export class CancelledError extends BatchEndedError {}
/** EINTERNAL */
export class InternalError extends ObatchError {}
/** EABORTED: an AbortSignal ended the call (cause: the signal's reason). */
export class AbortError extends ObatchError {}

export function codeName(code: number): CodeName | string;
export function strerror(code: number): string;

export interface BatchPage {
  batches: Info[];
  hasMore: boolean;
  /** Pass as `after` for the next page. */
  lastId: string;
}

/** What every call that asks the provider or reads a file takes besides its options. */
export interface CallOptions {
  /** Ends the call at once (a transfer, a back-off): the Promise rejects with EABORTED, cause signal.reason. */
  signal?: AbortSignal;
}

/**
 * One page of the provider's batches, newest first. Like every remote call,
 * it runs on libuv's thread pool: the event loop never waits for it.
 */
export function listBatches(
  options: BatchOptions,
  page?: { after?: string | null; limit?: number } & CallOptions,
): Promise<BatchPage>;
/** Every batch of the provider, newest first, a page at a time: `for await (const info of allBatches(o))`. */
export function allBatches(options: BatchOptions, page?: { pageSize?: number } & CallOptions): AsyncGenerator<Info, void, undefined>;
/** One remote batch by id. */
export function retrieve(batchId: string, options: BatchOptions, call?: CallOptions): Promise<Info>;
/** Asks the provider to cancel a remote batch by id. */
export function cancelBatch(batchId: string, options: BatchOptions, call?: CallOptions): Promise<Info>;

export interface Problem {
  /** 1-based line; 0: the file as a whole. */
  line: number;
  code: number;
  codeName: CodeName | string;
  message: string;
}

/** Every problem of a JSONL input file, found without sending anything. */
export function checkFile(
  path: string,
  options?: BatchOptions,
  limits?: { maxProblems?: number } & CallOptions,
): Promise<{ problemCount: number; problems: Problem[]; info: Info; parts: PartInfo[] }>;

/** One job of the journal (obatch_job_t, copied). Strings are "" when unknown; times unix seconds. */
export interface Job {
  /** 24 hex; the batch's "obatch_job" metadata value. */
  id: string;
  /** new, uploading, uploaded, creating, created, downloading, done, failed, abandoned */
  step: string;
  provider: string;
  baseUrl: string;
  endpoint: string;
  model: string;
  /** The input file, if the requests came from one (addFile). */
  sourcePath: string;
  /** SHA-256 of the submitted input bytes. */
  inputSha256: string;
  inputFileId: string;
  batchId: string;
  /** As last seen. */
  remoteStatus: string;
  outputFileId: string;
  errorFileId: string;
  /** Result files on disk, once downloaded. */
  outputPath: string;
  errorPath: string;
  /** The last failure, "" when none. */
  errorMessage: string;
  /** The job whose missing requests these are (Batch.retryMissing). */
  retryOf: string;
  requests: number;
  inputBytes: number;
  createdAt: number;
  updatedAt: number;
  /** A live process holds the job. */
  running: boolean;
  /** That process, 0 when none. */
  pid: number;
  /** Batches of a job cut into several; 0: one batch (batchId). */
  parts: number;
  /**
   * Those batches as a JSON array in input order ("[]" for one batch):
   * [{index, model, requests, step, batch_id, remote_status, attempt, error}].
   */
  partsJson: string;
}

export interface JobList {
  /** The journal's path. */
  journalPath: string;
  /** Newest first. */
  jobs: Job[];
}

/** The jobs of the journal (options.state, else the default); rejects with ESTATE when it is off. */
export function listJobs(options?: BatchOptions): Promise<JobList>;
/** Forgets the ended jobs no live process holds (result files stay); resolves with how many. */
export function pruneJobs(options?: BatchOptions): Promise<number>;

/** One request's tokens as OpenAI counts them (obatch_tokens_t, copied). */
export interface Tokens {
  /** "o200k_base" or "cl100k_base", as tiktoken maps the model. */
  encoding: 'o200k_base' | 'cl100k_base' | string;
  /** The model is unknown to tiktoken: o200k_base assumed. */
  encodingAssumed: boolean;
  /** Exact: the text with the encoding plus the counting guide's overheads. */
  promptTokens: number;
  /** An upper bound: max_completion_tokens / max_tokens / max_output_tokens times n. */
  outputTokens: number;
  /** No max given: 1000 assumed. */
  outputAssumed: boolean;
  images: number;
  /** An image of unknown size (a URL) or "auto" detail, counted as high detail. */
  imagesAssumed: boolean;
  /** Tools or a response_format schema: the guide's rule of thumb, not exact. */
  approximate: boolean;
}

/** One row of an estimate (obatch_estimate_row_t, copied): one model, or the total. */
export interface EstimateRow {
  /** "" for the total. */
  model: string;
  /** "" for the total. */
  encoding: string;
  requests: number;
  /** Exact. */
  promptTokens: number;
  /** An upper bound. */
  outputTokens: number;
  /** Requests counted with an assumed encoding. */
  encodingAssumed: number;
  /** Requests without a max (1000 assumed). */
  outputAssumed: number;
  images: number;
  imagesAssumed: number;
  /** Requests with tools or a schema. */
  approximate: number;
  /** The batches submit cuts them into. */
  batches: number;
  /** false: a model without a price (the total: some model has none); then the costs are null. */
  hasCost: boolean;
  /** USD in batch mode; null without a price (never guessed). */
  batchCostUsd: number | null;
  /** USD with direct requests; null without a price. */
  directCostUsd: number | null;
}

export interface Estimate {
  /** One row per model, in the order their first requests come. */
  models: EstimateRow[];
  /** Over every model (model ""). */
  total: EstimateRow;
  /** Where the prices came from and their date: "built in, 2026-03-21" or "PATH, DATE". */
  prices: string;
}

export interface EstimateOptions extends BatchOptions {
  /** A price table of the format of data/prices/openai.tsv; default: the built-in one. */
  prices?: string | null;
}

/**
 * The prompt tokens of one request body for the endpoint `url` ("/v1/chat/completions",
 * "/v1/embeddings", "/v1/responses", ...). body: an object or its JSON text. Throws EJSON
 * for a body that is not a JSON object.
 */
export function countTokens(url: string, body: object | string | Buffer): Tokens;
/** The tokens of `text` alone ("o200k_base", "cl100k_base"); throws EINVAL for an unknown encoding. */
export function countTextTokens(encoding: string, text: string | Buffer): number;
/**
 * What an input file will cost, per model and in total, before anything is sent. The file gets
 * every check of addFile first: a file with a problem rejects (checkFile lists them).
 */
export function estimateFile(path: string, options?: EstimateOptions, call?: CallOptions): Promise<Estimate>;

/** Options of Queue.open(): the store, the flush rules and any config key of a batch. */
export interface QueueOptions extends BatchOptions {
  /**
   * A SQLite file, or a "postgresql://" URI (any number of workers on any number of
   * machines). Default: $OBATCH_QUEUE, else $XDG_STATE_HOME/obatch/queue.db.
   */
  store?: string | null;
  /** A batch is made once this many requests are queued (default 10000)... */
  flushRequests?: number;
  /** ...or their input lines reach this many bytes (default 100000000)... */
  flushBytes?: number;
  /** ...or the oldest has waited this long: "10m" (default), "30s", "1h". */
  flushAge?: string;
  /** How long a worker's claim on a batch lasts without being renewed (default "2m"). */
  lease?: string;
  /** Ended requests are removed after this long (default "168h"). */
  retention?: string;
  /** Batches a request is sent in before it is "expired" (default 3). */
  maxAttempts?: number;
}

export type QueueState = 'queued' | 'submitted' | 'completed' | 'failed' | 'expired';

/** A queued request (obatch_queue_entry_t, copied). Times are unix milliseconds, 0: not yet. */
export interface QueueEntry<Body = any> {
  ticket: string;
  state: QueueState;
  /** obatch_queue_state: 1 queued ... 5 expired. */
  stateCode: number;
  /** completed, failed or expired: nothing changes any more. */
  ended: boolean;
  provider: string;
  endpoint: string;
  model: string;
  /** The answer's HTTP status; 0 when none yet. */
  statusCode: number;
  /** The answer's body, parsed; null when there is none. */
  body: Body | null;
  /** The answer's body as JSON text; null when there is none. */
  bodyJson: string | null;
  /** Why it failed or expired ({code: "batch_expired", ...}); null when it did not. */
  error: { code: string; message: string } | null;
  /** The batch it was (last) sent in; "" before. */
  batchId: string;
  /** Batches it was sent in. */
  attempts: number;
  createdMs: number;
  submittedMs: number;
  endedMs: number;
}

/** The store's counts, and what one work() step did (0 from stats()). */
export interface QueueStats {
  queued: number;
  submitted: number;
  completed: number;
  failed: number;
  expired: number;
  /** Batches running, by any worker. */
  batchesRunning: number;
  /** Unix ms of the oldest queued request; 0: none. */
  oldestQueuedMs: number;
  /** Requests put into new batches. */
  flushed: number;
  /** Answers stored. */
  stored: number;
  /** Requests of expired / cancelled batches queued again. */
  requeued: number;
  /** Batches taken over from a worker that stopped. */
  takenOver: number;
  /** Ended requests removed after the retention. */
  pruned: number;
  /** Batches this handle runs now. */
  held: number;
}

export interface PutOptions {
  /** Default: the config's endpoint, or inferred from the body. */
  endpoint?: string | null;
  /** The ticket, your own and unique; default: derived from the request. */
  id?: string | null;
}

export interface QueueWaitOptions {
  /** Reject with ETIMEOUT (err.entry: the request now) after this long. Default: no limit. */
  timeoutMs?: number;
  /** Stop waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface QueueWorkOptions {
  /** When there is nothing to do, wait this long for something (default 500). */
  timeoutMs?: number;
}

/**
 * Deferred requests: put one now, get a ticket, ask later. Workers (work() in a loop, here or
 * in another process or machine sharing the store) batch the queued requests at half the price.
 * Nothing blocks the event loop: the calls run on libuv's thread pool.
 */
export class Queue {
  /** Opens (creates or migrates) the queue. */
  static open(options?: QueueOptions): Promise<Queue>;
  /** Stores one request (checked as Batch#add checks it); resolves with its ticket. */
  put(body: object | string | Buffer, options?: PutOptions): Promise<string>;
  /** The request now; rejects with ENOTFOUND for an unknown ticket. */
  get<Body = any>(ticket: string): Promise<QueueEntry<Body>>;
  /** Resolves once the request has ended; rejects with ETIMEOUT (err.entry) after timeoutMs. */
  wait<Body = any>(ticket: string, options?: QueueWaitOptions): Promise<QueueEntry<Body>>;
  /** One worker step; waits up to timeoutMs when there is nothing to do. */
  work(options?: QueueWorkOptions): Promise<QueueStats>;
  /** The store's counts. */
  stats(): Promise<QueueStats>;
  readonly store: string | null;
  readonly closed: boolean;
  /** Closes the handle (idempotent) once the calls in flight have finished; gives up its batches. */
  close(): void;
  [Symbol.dispose](): void;
}

/** QueueEntry.state by obatch_queue_state - 1. */
export const queueStates: readonly QueueState[];

/** Batch.fromFiles(paths, options). */
export function openResults(paths: ResultPaths, options?: BatchOptions): Batch;

export const phases: readonly Phase[];
export const resultKinds: readonly ResultKind[];
/** Info.jobOrigin by obatch_job_origin number. */
export const jobOrigins: readonly JobOrigin[];
/** The version of libobatch loaded at run time. */
export const version: string;
export const versionNumber: number;
/** The raw SWIG layer: the C API one to one (see obatch_node.i). */
export const raw: Record<string, any>;
