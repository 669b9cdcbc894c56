// examples/quickstart.js in TypeScript: the declarations (index.d.ts) type
// every call. Compiled with `tsc --strict` by the packaging test.
//
//   npx tsc --strict --module node16 --target es2022 --types node --outDir dist quickstart.ts
//   OPENAI_API_KEY=sk-... node dist/quickstart.js
import { Batch, Info, ObatchError, Result } from 'obatch';

interface ChatReply {
  choices: { message: { content: string } }[];
}

async function main(): Promise<void> {
  const texts: string[] = ['I love it', 'It broke after a day', 'Okay, I guess'];
  const batch = new Batch({ provider: 'openai', model: 'gpt-4o-mini', metadata: { project: 'quickstart' } });
  try {
    for (const text of texts) {
      batch.add({ messages: [{ role: 'user', content: `Positive, negative or neutral? ${text}` }] });
    }
    await batch.submit();

    let info: Info;
    try {
      info = await batch.wait({
        onProgress: (i: Info) => console.error(`${i.phase} ${i.remoteStatus} ${i.requestsCompleted}/${i.requestsTotal}`),
      });
    } catch (err) {
      // Expired or cancelled: the finished results are still there.
      if (!(err instanceof ObatchError) || (err.code !== 'EEXPIRED' && err.code !== 'ECANCELLED') || !err.info) {
        throw err;
      }
      console.error(`obatch: ${err.message}`);
      info = err.info;
    }
    console.log(`batch ${info.batchId} ${info.remoteStatus}; output in ${info.outputPath}`);

    for await (const r of batch.results<ChatReply>()) {
      const result: Result<ChatReply> = r;
      const answer = result.ok && result.body ? result.body.choices[0].message.content
        : result.kind === 'missing' ? '(no result)' : result.errorMessage;
      console.log(`${result.customId} -> ${result.statusCode} ${String(answer).slice(0, 60)}`);
    }
  } finally {
    batch.close();
  }
}

main().catch((err: unknown) => {
  console.error(`obatch: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
