// examples/express-server.js starts and its route hands out a working base URL.
// (examples/chat.js runs against the real relay in integration.test.mjs.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeToken, here, makeAesFile, relayKeys } from './helpers.mjs';

let child;
after(() => child?.kill('SIGTERM'));

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

describe('examples/express-server.js', () => {
  it('GET /api/relay-url returns a fresh base URL with a scoped token', async () => {
    const rai = makeAesFile({ server: { host: 'relay.example.com', port: 443 } });
    const port = await freePort();
    child = spawn(process.execPath, [join(here, '../examples/express-server.js')], {
      cwd: join(here, '..'),
      env: { ...process.env, RELAYAPI_RAI: JSON.stringify(rai), OPENAI_API_KEY: 'sk-example-key', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    let body;
    for (let i = 0; i < 100 && body === undefined; i++) {
      try {
        body = await (await fetch(`http://127.0.0.1:${port}/api/relay-url`)).json();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(body, `express example did not start:\n${log}`);
    const m = /^https:\/\/relay\.example\.com\/t\/([A-Za-z0-9_.-]+)\/v1$/.exec(body.baseURL);
    assert.ok(m, body.baseURL);
    const claims = await decodeToken(m[1], await relayKeys(rai));
    assert.equal(claims.api_key, 'sk-example-key');
    assert.equal(claims.max_calls, 5);
    assert.deepEqual(claims.origins, [`http://localhost:${port}`]);
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(page, /api\/relay-url/);
  });
});
