// Classify three sentences with one batch, at half the price.
//
//   OPENAI_API_KEY=sk-... node examples/quickstart.js
//
// (OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 points it at a local server.)
'use strict';
const { Batch, ObatchError } = require('obatch');

async function main() {
  const texts = ['I love it', 'It broke after a day', 'Okay, I guess'];
  const batch = new Batch({ provider: 'openai', model: 'gpt-4o-mini', metadata: { project: 'quickstart' } });
  try {
    for (const text of texts) {
      // Objects become JSON; the model comes from the options. ids: request-1, ...
      batch.add({ messages: [{ role: 'user', content: `Positive, negative or neutral? ${text}` }] });
    }
    await batch.submit();

    let info;
    try {
      info = await batch.wait({
        onProgress: (i) => console.error(`${i.phase} ${i.remoteStatus} ${i.requestsCompleted}/${i.requestsTotal}`),
      });
    } catch (err) {
      // Expired or cancelled: the finished results are still there.
      if (!(err instanceof ObatchError) || (err.code !== 'EEXPIRED' && err.code !== 'ECANCELLED')) throw err;
      console.error(`obatch: ${err.message}`);
      info = err.info;
    }
    console.log(`batch ${info.batchId} ${info.remoteStatus}; output in ${info.outputPath}`);

    for await (const r of batch.results()) { // input order, failures and gaps included
      const answer = r.ok ? r.body.choices[0].message.content : r.kind === 'missing' ? '(no result)' : r.errorMessage;
      console.log(`${r.customId} -> ${r.statusCode} ${String(answer).slice(0, 60)}`);
    }
  } finally {
    batch.close();
  }
}

main().catch((err) => {
  console.error(`obatch: ${err.message}`);
  process.exit(1);
});
