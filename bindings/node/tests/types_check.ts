// Compiled (never run) by `tsc --noEmit` to check index.d.ts against real use:
//   npx -p typescript@5 -p @types/node@20 tsc --noEmit --strict --types node tests/types_check.ts
import {
  Batch, ObatchError, ExpiredError, AbortError, AuthError, codes, listBatches, allBatches, retrieve, checkFile, listJobs, pruneJobs, Info, Job, JobOrigin, PartInfo, Result,
  countTokens, countTextTokens, estimateFile, Tokens, Estimate, EstimateRow,
  Queue, QueueEntry, QueueState, QueueStats,
} from 'obatch';

async function main(): Promise<void> {
  // Options are typed exactly: a misspelt key does not compile.
  // @ts-expect-error 'mdoel' is not an option
  new Batch({ provider: 'openai', mdoel: 'gpt-4o-mini' });
  new Batch({ provider: 'openai', 'metadata.project': 'x', caFile: '/etc/ca.pem' });
  const controller = new AbortController();
  try {
    await retrieve('batch_1', { provider: 'openai' }, { signal: controller.signal });
    for await (const b of allBatches({ provider: 'openai' }, { pageSize: 50, signal: controller.signal })) console.log(b.batchId);
  } catch (err) {
    if (err instanceof AbortError || err instanceof AuthError) console.log(err.code, err.errno, err.cause);
  }

  const batch = new Batch({ provider: 'openai', model: 'gpt-4o-mini', pollIntervalMs: 500, metadata: { a: 'b' } });
  const id: string = batch.add({ messages: [{ role: 'user', content: 'hi' }] }, { customId: 'q1' });
  batch.add('{"messages": []}');
  const many: number = batch.addMany(Buffer.from('{"messages": []}\n'), { endpoint: '/v1/chat/completions' });
  batch.addMany('{"messages": []}');
  console.log(many);
  await batch.submit();
  let info: Info;
  try {
    info = await batch.wait({ onProgress: (i) => console.log(i.phase, i.requestsCompleted), timeoutMs: 1000 });
  } catch (err) {
    if (err instanceof ExpiredError && err.code === 'EEXPIRED' && err.errno === codes.EEXPIRED && err.info) info = err.info;
    else throw err;
  }
  console.log(info.batchId, id);
  const parts: PartInfo[] = batch.parts();
  if (info.partsTotal > 1) console.log(parts.map((p) => `${p.index} ${p.phase} ${p.batchId} ${p.requestsAdded}`));
  console.log(info.partsEnded + info.partsFailed === info.partsTotal, info.tokensEstimated, info.tokensEnqueued);
  const direct = new Batch({
    provider: 'openai', mode: 'auto', directBelow: 100, deadline: '2h', concurrency: 8, rpm: 600, tpm: 100000,
  });
  const d: Info = await direct.wait({ onProgress: (i) => console.log(i.mode, i.requestsInFlight, i.requestsPerMinute) });
  if (d.mode === 'direct') console.log(d.modeReason, d.requestsRetried, d.responses429, d.tokensPerMinute);
  const limits: number = d.rpmLimit + d.tpmLimit;
  console.log(limits);
  direct.close();
  for await (const r of batch.results<{ choices: { message: { content: string } }[] }>()) {
    if (r.ok && r.body) console.log(r.customId, r.body.choices[0].message.content);
  }
  const one: Result = batch.lookup('q1');
  console.log(one.kind === 'missing', one.line);
  batch.close();
  const page = await listBatches({ provider: 'openai', split: 'auto', maxRequests: 3 }, { limit: 5 });
  console.log(page.batches.length, page.hasMore);
  const check = await checkFile('in.jsonl');
  console.log(check.problems.map((p) => p.codeName), check.parts.map((p) => p.tokensEstimated));
  const origin: JobOrigin = info.jobOrigin;
  const journal = await listJobs({ state: info.journalPath });
  const job: Job | undefined = journal.jobs.find((j) => j.id === info.jobId);
  if (job && job.parts > 0) console.log(JSON.parse(job.partsJson).length);
  if (job && !job.running && origin !== 'none') {
    const retry: Batch = Batch.retryMissing(job.id, { state: journal.journalPath, forceNew: 1 });
    retry.close();
  }
  const pruned: number = await pruneJobs({ state: journal.journalPath });
  console.log(pruned);
  const tokens: Tokens = countTokens('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
  const fromText: Tokens = countTokens('/v1/embeddings', '{"model": "text-embedding-3-small", "input": "x"}');
  const n: number = countTextTokens('o200k_base', 'hello world');
  console.log(tokens.promptTokens + tokens.outputTokens, fromText.approximate, tokens.encoding, n);
  const estimate: Estimate = await estimateFile('in.jsonl', { prices: null, maxRequests: 100 });
  const rows: EstimateRow[] = estimate.models;
  const cost: number | null = estimate.total.batchCostUsd;
  console.log(rows.map((r) => `${r.model} ${r.requests} ${r.promptTokens} ${r.hasCost}`), cost ?? 'unknown', estimate.prices);
  const q: Queue = await Queue.open({ store: 'queue.db', provider: 'openai', flushAge: '1m', flushRequests: 100 });
  const ticket: string = await q.put({ model: 'gpt-4o-mini', messages: [] }, { id: 'mine-1', endpoint: null });
  const now: QueueEntry = await q.get(ticket);
  const state: QueueState = now.state;
  const work: QueueStats = await q.work({ timeoutMs: 100 });
  console.log(state, now.createdMs, work.flushed + work.stored + work.takenOver, (await q.stats()).queued);
  try {
    const done: QueueEntry<{ choices: { message: { content: string } }[] }> = await q.wait(ticket, { timeoutMs: 50 });
    console.log(done.body?.choices[0].message.content, done.error?.message, done.statusCode);
  } catch (err) {
    if (err instanceof ObatchError && err.code === 'ETIMEOUT' && err.entry) console.log(err.entry.state);
  }
  q.close();
}

main();
