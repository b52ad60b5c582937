// usage()/revoke() against a local stand-in for the relay's admin API (the real
// admin API is not built yet), and openai() against a local stand-in relay.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { RelayAPI, RelayAPIError } from '../dist/index.js';
import { decodeToken, makeAesFile, relayKeys } from './helpers.mjs';

const ADMIN_KEY = 'admin-secret-123';
const seen = [];
let server;
let port;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const json = (status, value) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const m = /^\/(?:base\/)?admin\/tokens\/([^/]+)(\/revoke)?$/.exec(req.url);
      if (m) {
        if (req.headers.authorization !== `Bearer ${ADMIN_KEY}`) {
          return json(401, { error: { message: 'Invalid admin key.', type: 'relayapi_error', code: 'unauthorized' } });
        }
        if (m[1] === 'unknown-jti-0000000000') {
          return json(404, { error: { message: 'No such token.', type: 'relayapi_error', code: 'not_found' } });
        }
        if (m[1] === 'broken-jti-00000000000') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          return res.end('bad gateway');
        }
        if (m[2]) return req.method === 'POST' ? json(200, { jti: m[1], revoked: true }) : json(405, {});
        return req.method === 'GET' ? json(200, { jti: m[1], calls: 3, tokens: 42, revoked: false }) : json(405, {});
      }
      if (req.url.startsWith('/t/') && req.url.endsWith('/v1/chat/completions')) {
        return json(200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        });
      }
      json(404, { error: { message: 'not found', type: 'x', code: 'nope' } });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => new Promise((r) => server.close(r)));

const rai = () => makeAesFile({ server: { host: '127.0.0.1', port } });

describe('admin API client', () => {
  it('usage(id) GETs /admin/tokens/{jti} with the admin key', async () => {
    const relay = new RelayAPI(rai(), { adminKey: ADMIN_KEY });
    const token = await relay.createToken({ maxCalls: 5 });
    const usage = await relay.usage(token);
    assert.deepStrictEqual(usage, { jti: token.id, calls: 3, tokens: 42, revoked: false });
    const req = seen.at(-1);
    assert.equal(req.method, 'GET');
    assert.equal(req.url, `/admin/tokens/${token.id}`);
    assert.equal(req.headers.authorization, `Bearer ${ADMIN_KEY}`);
    assert.deepStrictEqual(await relay.usage(token.id), usage);
  });

  it('revoke(id) POSTs /admin/tokens/{jti}/revoke', async () => {
    const relay = new RelayAPI(rai(), { adminKey: ADMIN_KEY });
    const out = await relay.revoke('some-jti-0123456789');
    assert.deepStrictEqual(out, { jti: 'some-jti-0123456789', revoked: true });
    assert.equal(seen.at(-1).method, 'POST');
    assert.equal(seen.at(-1).url, '/admin/tokens/some-jti-0123456789/revoke');
  });

  it('honours base_path', async () => {
    const relay = new RelayAPI(makeAesFile({ server: { host: '127.0.0.1', port, base_path: '/base' } }), {
      adminKey: ADMIN_KEY,
    });
    await relay.usage('some-jti-0123456789');
    assert.equal(seen.at(-1).url, '/base/admin/tokens/some-jti-0123456789');
  });

  it('reads RELAYAPI_ADMIN_KEY when no adminKey is given', async () => {
    const saved = process.env.RELAYAPI_ADMIN_KEY;
    process.env.RELAYAPI_ADMIN_KEY = ADMIN_KEY;
    try {
      await new RelayAPI(rai()).usage('some-jti-0123456789');
    } finally {
      if (saved === undefined) delete process.env.RELAYAPI_ADMIN_KEY;
      else process.env.RELAYAPI_ADMIN_KEY = saved;
    }
    assert.equal(seen.at(-1).headers.authorization, `Bearer ${ADMIN_KEY}`);
  });

  it('fails clearly without an admin key', async () => {
    const saved = process.env.RELAYAPI_ADMIN_KEY;
    delete process.env.RELAYAPI_ADMIN_KEY;
    try {
      await assert.rejects(new RelayAPI(rai()).usage('some-jti-0123456789'), { code: 'missing_admin_key' });
    } finally {
      if (saved !== undefined) process.env.RELAYAPI_ADMIN_KEY = saved;
    }
  });

  it('parses relay errors into RelayAPIError with code and status', async () => {
    const wrong = new RelayAPI(rai(), { adminKey: 'wrong' });
    await assert.rejects(wrong.usage('some-jti-0123456789'), (e) => {
      assert.ok(e instanceof RelayAPIError);
      assert.equal(e.code, 'unauthorized');
      assert.equal(e.status, 401);
      assert.equal(e.type, 'relayapi_error');
      assert.match(e.message, /Invalid admin key/);
      return true;
    });
    const relay = new RelayAPI(rai(), { adminKey: ADMIN_KEY });
    await assert.rejects(relay.revoke('unknown-jti-0000000000'), { code: 'not_found', status: 404 });
    await assert.rejects(relay.usage('broken-jti-00000000000'), { code: 'http_error', status: 502 });
  });

  it('validates the id and reports network errors', async () => {
    const relay = new RelayAPI(rai(), { adminKey: ADMIN_KEY });
    await assert.rejects(relay.usage('../etc/passwd'), { code: 'invalid_argument', param: 'id' });
    const down = new RelayAPI(makeAesFile({ server: { host: '127.0.0.1', port: 1 } }), { adminKey: ADMIN_KEY });
    await assert.rejects(down.usage('some-jti-0123456789'), { code: 'network_error' });
  });

  it('uses a custom fetch', async () => {
    const calls = [];
    const relay = new RelayAPI(rai(), {
      adminKey: ADMIN_KEY,
      fetch: async (url, init) => {
        calls.push([url, init.method]);
        return new Response('{"ok":true}', { status: 200 });
      },
    });
    assert.deepStrictEqual(await relay.revoke('some-jti-0123456789'), { ok: true });
    assert.deepStrictEqual(calls, [[`http://127.0.0.1:${port}/admin/tokens/some-jti-0123456789/revoke`, 'POST']]);
  });
});

describe('openai()', () => {
  it('returns an OpenAI client whose requests carry the token in the path', async () => {
    const file = rai();
    const relay = new RelayAPI(file);
    const token = await relay.createToken({ apiKey: 'sk-real' });
    const client = await relay.openai({ token, maxRetries: 0 });
    assert.ok(client instanceof OpenAI);
    assert.equal(client.baseURL, relay.baseURL(token));
    const out = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(out.choices[0].message.content, 'hi');
    const req = seen.at(-1);
    assert.equal(req.url, `/t/${token.value}/v1/chat/completions`);
    assert.equal(req.headers.authorization, `Bearer ${token.value}`);
    assert.equal((await decodeToken(token.value, await relayKeys(file))).api_key, 'sk-real');
  });

  it('mints a token when none is given, and accepts an injected OpenAI class', async () => {
    const relay = new RelayAPI(rai());
    class Fake {
      constructor(opts) {
        this.opts = opts;
      }
    }
    const client = await relay.openai({ OpenAI: Fake, tokenOptions: { maxCalls: 1 }, timeout: 5 });
    assert.ok(client instanceof Fake);
    assert.match(client.opts.baseURL, /\/t\/[A-Za-z0-9_.-]+\/v1$/);
    assert.equal(client.opts.timeout, 5);
    assert.ok(client.opts.baseURL.includes(client.opts.apiKey));
  });
});
