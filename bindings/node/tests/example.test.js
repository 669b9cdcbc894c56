'use strict';
// examples/quickstart.js, unchanged, against the local fake server: the
// library finds the server and the key in OPENAI_BASE_URL / OPENAI_API_KEY.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { FakeServer, KEY } = require('./fake_server');

test('examples/quickstart.js runs against a local server', async (t) => {
  const server = await FakeServer.start({ steps: 0 });
  t.after(() => server.stop());
  const env = { ...process.env, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: KEY, TMPDIR: server.tmp };
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'quickstart.js')],
      { env, cwd: server.tmp, timeout: 60000 },
      (err, out, errOut) => (err ? reject(Object.assign(err, { stdout: out, stderr: errOut })) : resolve({ stdout: out, stderr: errOut })));
  });
  assert.match(stdout, /^batch batch_\S+ completed; output in \S+-output\.jsonl$/m);
  for (let n = 1; n <= 3; n++) assert.match(stdout, new RegExp(`^request-${n} -> 200 \\S`, 'm'));
  assert.match(stderr, /done completed/);
});
