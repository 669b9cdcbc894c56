'use strict';
// The local fake Batch server (tests/fake_server/fake_batch_server.py) for
// the tests: one python process per FakeServer, on a free loopback port.
// Environment (CMake sets it): OBATCH_FAKE_SERVER (the script),
// OBATCH_PYTHON (its interpreter). Without them the repository's script
// and `python3` are used.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SERVER =
  process.env.OBATCH_FAKE_SERVER ||
  path.resolve(__dirname, '..', '..', '..', 'tests', 'fake_server', 'fake_batch_server.py');
const PYTHON = process.env.OBATCH_PYTHON || 'python3';
const KEY = 'test-key';

// A key or base URL in the environment must not leak into a test.
for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'PARASAIL_API_KEY', 'PARASAIL_BASE_URL']) {
  delete process.env[name];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class FakeServer {
  static async start(config = {}) {
    const server = new FakeServer();
    await server._start(config);
    return server;
  }

  async _start(config) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'obatch-node-fake-'));
    const portFile = path.join(this.tmp, 'port');
    this.proc = spawn(
      PYTHON,
      [SERVER, '--port', '0', '--port-file', portFile, '--api-key', KEY, '--max-lifetime', '300',
        '--config', JSON.stringify(config)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    let exitCode = null;
    this.proc.once('exit', (code) => (exitCode = code === null ? 'signal' : code));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (exitCode !== null) throw new Error(`fake server exited with ${exitCode}`);
      try {
        const port = parseInt(fs.readFileSync(portFile, 'ascii').trim(), 10);
        if (port > 0) {
          this.root = `http://127.0.0.1:${port}`;
          this.baseUrl = `${this.root}/v1`;
          return;
        }
      } catch {
        // not written yet
      }
      await sleep(20);
    }
    await this.stop();
    throw new Error('fake server wrote no port file within 10 s');
  }

  /** Batch options that point the library at this server. */
  options(extra = {}) {
    return {
      provider: 'openai',
      baseUrl: this.baseUrl,
      apiKey: KEY,
      pollIntervalMs: 20,
      pollMaxIntervalMs: 50,
      workDir: this.tmp,
      ...extra,
    };
  }

  async call(method, urlPath, body) {
    const res = await fetch(this.root + urlPath, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  }

  async stats() {
    return (await this.call('GET', '/_control/stats')).body;
  }

  async config(update) {
    const { status, body } = await this.call('POST', '/_control/config', update);
    if (status !== 200) throw new Error(`fake server config: ${JSON.stringify(body)}`);
  }

  /** The batches the server has (GET /v1/batches). */
  async batches() {
    const res = await fetch(`${this.baseUrl}/batches?limit=100`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    return (await res.json()).data;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** A chat request body. */
function chat(text, model = 'gpt-4o-mini') {
  return { model, messages: [{ role: 'user', content: text }] };
}

module.exports = { FakeServer, chat, KEY, SERVER, PYTHON, sleep };
