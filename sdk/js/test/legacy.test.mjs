// The RelayAPI 1.x API (RelayAPIClient, TokenGenerator) over a local stand-in
// relay: URLs, the tokens they mint (extInfo → model_map / meta), request
// bodies, streams, errors and deprecation warnings. The real relay runs them in
// legacy-integration.test.mjs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RelayAPIClient, RelayAPIError, TokenGenerator } from '../dist/index.js';
import { decodeToken, here, readJSON, relayKeys, tempDir, vectorsDir, writeJSON } from './helpers.mjs';

const execFileP = promisify(execFile);
process.noDeprecation = true; // the warnings themselves are checked in a child process below

const seedFile = join(vectorsDir, 'v1-seed.rai');
const seed = await readJSON(seedFile);
const keys = await relayKeys(seed);
const quiet = { onWarning: () => {} };

const isArgError = (param, re) => (e) => {
  assert.ok(e instanceof RelayAPIError, e);
  assert.equal(e.code, 'invalid_argument');
  if (param) assert.equal(e.param, param);
  if (re) assert.match(e.message, re);
  return true;
};

describe('RelayAPIClient: loading', () => {
  it('from a 1.x .rai path, its JSON text and its object', async () => {
    for (const config of [seedFile, JSON.stringify(seed), seed]) {
      const client = new RelayAPIClient(config, quiet);
      const token = await client.createToken({ apiKey: 'sk-1' });
      assert.equal(client.generateUrl(token), `http://localhost:8840/relayapi/t/${token}/v1`);
    }
  });

  it('has no built-in default key', async () => {
    assert.throws(() => new RelayAPIClient(), isArgError('config', /no built-in default key/));
    const dir = await tempDir();
    assert.throws(() => new RelayAPIClient(join(dir, 'default.rai')), {
      code: 'invalid_config',
      message: /cannot read .*default\.rai.*relayapi keygen/,
    });
  });

  it('refuses the 1.x example key', () => {
    assert.throws(() => new RelayAPIClient(join(vectorsDir, 'v1-example-key.rai')), {
      code: 'invalid_config',
      message: /example key published with RelayAPI 1\.x/,
    });
  });
});

describe('RelayAPIClient: runtimes without a synchronous file read (Node < 20.16)', () => {
  it('reads the file in the background; async methods wait, sync ones say so until then', async () => {
    const script = `
      process.getBuiltinModule = undefined;
      process.noDeprecation = true;
      const { RelayAPIClient, TokenGenerator } = await import('relayapi');
      const out = {};
      const c = new RelayAPIClient(process.argv[1], { onWarning: () => {} });
      try { c.generateUrl('a.b.c.d.e'); } catch (e) { out.early = e.code + ': ' + e.message; }
      const token = await c.createToken();
      out.url = c.generateUrl(token).replace(token, 'TOKEN');
      const missing = new TokenGenerator(process.argv[1] + '.missing');
      await missing.encryptToken({}).catch((e) => (out.missing = e.code + ': ' + e.message));
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script, seedFile], {
      cwd: join(here, '..'),
    });
    const out = JSON.parse(stdout);
    assert.match(out.early, /^invalid_config: generateUrl\(\): the \.rai file is still being read/);
    assert.equal(out.url, 'http://localhost:8840/relayapi/t/TOKEN/v1');
    assert.match(out.missing, /^invalid_config: .*cannot read/);
  });
});

describe('RelayAPIClient.createToken', () => {
  const client = new RelayAPIClient(seed, quiet);

  it('1.x defaults: dashscope, 100 calls, 1 day', async () => {
    const claims = await decodeToken(await client.createToken({ apiKey: 'sk-upstream' }), keys);
    assert.equal(claims.provider, 'dashscope');
    assert.equal(claims.max_calls, 100);
    assert.equal(claims.exp - claims.iat, 86_400);
    assert.equal(claims.api_key, 'sk-upstream');
    assert.equal(claims.model_map, undefined);
    assert.equal(claims.meta, undefined);
  });

  it('returns a promise of the token string (a JWE)', async () => {
    const p = client.createToken({ apiKey: 'sk-1' });
    assert.ok(p instanceof Promise);
    const token = await p;
    assert.equal(typeof token, 'string');
    assert.equal(token.split('.').length, 5);
  });

  it('maxCalls, expireDays, expireSeconds, provider; no apiKey', async () => {
    let c = await decodeToken(
      await client.createToken({ maxCalls: 3, expireDays: 2, provider: 'openai', extInfo: '' }),
      keys,
    );
    assert.deepEqual([c.max_calls, c.exp - c.iat, c.provider, c.api_key], [3, 172_800, 'openai', undefined]);
    c = await decodeToken(await client.createToken({ expireDays: 0.5 }), keys);
    assert.equal(c.exp - c.iat, 43_200);
    c = await decodeToken(await client.createToken({ expireSeconds: 60 }), keys);
    assert.equal(c.exp - c.iat, 60);
  });

  it('validates', async () => {
    await assert.rejects(
      client.createToken({ expireDays: 1, expireSeconds: 60 }),
      isArgError('expireSeconds', /not both/),
    );
    await assert.rejects(client.createToken({ expireDays: 0 }), isArgError('expireDays'));
    await assert.rejects(client.createToken({ expireDays: '1' }), isArgError('expireDays'));
    await assert.rejects(client.createToken({ expireSeconds: 1.5 }), isArgError('expireSeconds'));
    await assert.rejects(client.createToken({ expiresIn: 60 }), isArgError('expiresIn', /unknown option of the 1\.x/));
    await assert.rejects(client.createToken({ maxCalls: 0 }), isArgError('maxCalls'));
    await assert.rejects(client.createToken({ provider: 'Bad Name' }), isArgError('provider'));
    await assert.rejects(client.createToken(null), isArgError('options'));
  });
});

describe('extInfo → model_map / meta', () => {
  const gen = new TokenGenerator(seed, quiet);
  const claimsOf = (extInfo) => gen.createToken({ extInfo });
  const cases = [
    ['{"rep_m":"gpt-4o-mini"}', { model_map: { '*': 'gpt-4o-mini' } }],
    [
      '{"rep_m":"gpt-4o-mini","user":"u1","n":42,"o":{"a":[1, 2]},"b":true,"z":null,"s":"x y"}',
      {
        model_map: { '*': 'gpt-4o-mini' },
        meta: { user: 'u1', n: '42', o: '{"a":[1,2]}', b: 'true', z: 'null', s: 'x y' },
      },
    ],
    ['{"user":"u1"}', { meta: { user: 'u1' } }],
    ['free text', { meta: { ext_info: 'free text' } }],
    ['[1,2]', { meta: { ext_info: '[1,2]' } }],
    ['42', { meta: { ext_info: '42' } }],
    ['"quoted"', { meta: { ext_info: '"quoted"' } }],
    ['{not json', { meta: { ext_info: '{not json' } }],
    [' {"rep_m":"m1"} ', { model_map: { '*': 'm1' } }],
    ['', {}],
    ['{}', {}],
    ['{"rep_m":""}', {}],
    [
      { rep_m: 'gpt-4o-mini', team: 'a' },
      { model_map: { '*': 'gpt-4o-mini' }, meta: { team: 'a' } },
    ],
    ['x'.repeat(256), { meta: { ext_info: 'x'.repeat(256) } }],
    [JSON.stringify(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v']))), 32],
  ];
  for (const [extInfo, expected] of cases) {
    it(`${JSON.stringify(extInfo).slice(0, 80)}`, () => {
      const c = claimsOf(extInfo);
      if (typeof expected === 'number') {
        assert.equal(Object.keys(c.meta).length, expected);
        return;
      }
      assert.deepEqual(c.model_map, expected.model_map);
      assert.deepEqual(c.meta, expected.meta);
    });
  }

  const bad = [
    ['{"rep_m":5}', /rep_m must be a model name/],
    [`{"rep_m":"${'m'.repeat(257)}"}`, /rep_m/],
    ['x'.repeat(257), /at most 256 bytes/],
    ['é'.repeat(129), /at most 256 bytes, got 258/],
    [JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']))), /at most 32 keys/],
    [JSON.stringify({ ['k'.repeat(65)]: 'v' }), /1–64 bytes/],
    [JSON.stringify({ k: 'v'.repeat(257) }), /1–256 bytes/],
    ['{"k":""}', /1–256 bytes/],
    ['{"":"v"}', /1–64 bytes/],
    [42, /must be a string/],
  ];
  for (const [extInfo, re] of bad) {
    it(`rejects ${JSON.stringify(extInfo).slice(0, 60)}`, () => {
      assert.throws(() => claimsOf(extInfo), isArgError('extInfo', re));
    });
  }

  it('reaches the token minted by RelayAPIClient', async () => {
    const client = new RelayAPIClient(seed, quiet);
    const token = await client.createToken({ extInfo: '{"rep_m":"gpt-4o-mini","user":"u1"}' });
    const c = await decodeToken(token, keys);
    assert.deepEqual(c.model_map, { '*': 'gpt-4o-mini' });
    assert.deepEqual(c.meta, { user: 'u1' });
  });
});

describe('RelayAPIClient.generateUrl', () => {
  const client = new RelayAPIClient(seed, quiet);
  let token;
  before(async () => {
    token = await client.createToken({ apiKey: 'sk-1' });
  });
  const root = () => `http://localhost:8840/relayapi/t/${token}`;

  it('(token) and (token, endpoint)', () => {
    assert.equal(client.generateUrl(token), `${root()}/v1`);
    assert.equal(client.generateUrl(token, undefined), `${root()}/v1`);
    assert.equal(client.generateUrl(token, null), `${root()}/v1`);
    assert.equal(client.generateUrl(token, ''), `${root()}/v1`);
    assert.equal(client.generateUrl(token, 'chat/completions'), `${root()}/v1/chat/completions`);
    assert.equal(client.generateUrl(token, '/embeddings'), `${root()}/v1/embeddings`);
    assert.equal(client.generateUrl(token, 'v1/images/generations'), `${root()}/v1/images/generations`);
    assert.equal(client.generateUrl(token, '/v1/chat/completions'), `${root()}/v1/chat/completions`);
    assert.equal(client.generateUrl({ value: token }, 'chat/completions'), `${root()}/v1/chat/completions`);
  });

  it('the 1.x order (endpoint, token)', () => {
    assert.equal(client.generateUrl('v1/chat/completions', token), `${root()}/v1/chat/completions`);
    assert.equal(client.generateUrl('/v1/embeddings', token), `${root()}/v1/embeddings`);
    assert.equal(client.generateUrl('images/generations', token), `${root()}/v1/images/generations`);
    assert.equal(client.generateUrl('v1', token), `${root()}/v1`);
  });

  it('a promise (createToken without await) is a TypeError that says to await', () => {
    const p = client.createToken();
    const re = /await client\.createToken/;
    assert.throws(
      () => client.generateUrl(p),
      (e) => e instanceof TypeError && re.test(e.message),
    );
    assert.throws(() => client.generateUrl('v1/chat/completions', p), TypeError);
    assert.throws(() => client.generateUrl(p, 'v1/chat/completions'), TypeError);
    return p;
  });

  it('rejects what is not a token or an endpoint', () => {
    assert.throws(() => client.generateUrl('v1/chat/completions'), isArgError('token', /not a RelayAPI 2\.x token/));
    assert.throws(() => client.generateUrl('bm90LWEtand0LXRva2Vu'), isArgError('token', /1\.x tokens/));
    assert.throws(() => client.generateUrl(token, token), isArgError('token'));
    assert.throws(() => client.generateUrl('a', 'b'), isArgError('token'));
    assert.throws(() => client.generateUrl(token, 'v1/chat?x=1'), isArgError('endpoint'));
    assert.throws(() => client.generateUrl(token, '../admin/tokens'), isArgError('endpoint'));
    assert.throws(() => client.generateUrl('a.b/c.d.e.f'), isArgError('token'));
    assert.equal(client.generateUrl(token, 'a.b/c.d'), `${root()}/v1/a.b/c.d`);
  });

  it('root base path and https from the 1.x host', async () => {
    const c = new RelayAPIClient(join(vectorsDir, 'v1-root-path.rai'), quiet);
    const t = await c.createToken();
    assert.equal(c.generateUrl('v1/chat/completions', t), `http://relay.internal:8080/t/${t}/v1/chat/completions`);
    const h = new RelayAPIClient(join(vectorsDir, 'v1-https.rai'), quiet);
    assert.equal(h.generateUrl(t), `https://relay.example.com/relayapi/t/${t}/v1`);
  });
});

describe('TokenGenerator', () => {
  const gen = new TokenGenerator(seedFile, quiet);

  it('createToken returns the claims; encryptToken mints exactly them', async () => {
    const data = gen.createToken({ apiKey: 'sk-1', maxCalls: 7, extInfo: '{"rep_m":"gpt-4o-mini"}' });
    assert.deepEqual(Object.keys(data).sort(), ['api_key', 'exp', 'iat', 'jti', 'max_calls', 'model_map', 'provider']);
    assert.equal(data.provider, 'dashscope');
    assert.equal(data.exp - data.iat, 86_400);
    const token = await gen.encryptToken(data);
    assert.deepEqual(await decodeToken(token, keys), data);
  });

  it('encryptToken refuses 1.x token data and invalid claims', async () => {
    const v1 = {
      id: 'token-1',
      api_key: 'k',
      max_calls: 1,
      expire_time: '2030-01-01T00:00:00Z',
      provider: 'x',
      ext_info: '',
    };
    await assert.rejects(gen.encryptToken(v1), isArgError('data', /1\.x token data/));
    await assert.rejects(gen.encryptToken({ ...gen.createToken(), max_calls: 0 }), isArgError('max_calls'));
  });

  it('getServerUrl joins the relay base URL and a path', () => {
    assert.equal(gen.getServerUrl('health'), 'http://localhost:8840/relayapi/health');
    assert.equal(gen.getServerUrl('/v1/models'), 'http://localhost:8840/relayapi/v1/models');
    assert.equal(gen.getServerUrl(), 'http://localhost:8840/relayapi/');
  });
});

// A stand-in relay: records requests, answers by path.
const seen = [];
let server;
let port;
const SSE = [
  ': keep-alive comment',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk",',
  'data: "choices":[{"index":0,"delta":{"content":"Hel"}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"}}]}\r',
  '\r',
  'data: [DONE]',
  '',
  'data: {"after":"done"}',
  '',
].join('\n');

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: body ? JSON.parse(body) : undefined });
      const json = (status, value) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const mode = req.headers['x-test-mode'] ?? (body.includes('"mode-') ? JSON.parse(body).messages[0].content : '');
      if (req.url === '/relayapi/health') return json(200, { status: 'ok' });
      const m = /^\/relayapi\/t\/[A-Za-z0-9_.-]+\/v1\/(.+)$/.exec(req.url);
      if (!m) return json(404, { error: { message: 'No such route.', type: 'relayapi_error', code: 'not_found' } });
      if (mode === 'mode-limit') {
        return json(429, {
          error: { message: 'The token has no calls left.', type: 'relayapi_error', code: 'call_limit_exceeded' },
        });
      }
      if (mode === 'mode-text-error') {
        res.writeHead(502, { 'content-type': 'text/plain' });
        return res.end('bad gateway');
      }
      if (mode === 'mode-stream-error') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(SSE.split('data: {"id":"c1","object":"chat.completion.chunk",\n')[0]);
        return res.end(
          'event: error\ndata: {"error":{"message":"upstream went away","type":"relayapi_error","code":"upstream_error"}}\n\n',
        );
      }
      if (m[1] === 'chat/completions' && seen.at(-1).body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return res.end(SSE);
      }
      if (m[1] === 'chat/completions') return json(200, { object: 'chat.completion', choices: [{ message: {} }] });
      if (m[1] === 'images/generations') return json(200, { data: [{ url: 'https://x/img.png' }] });
      if (m[1] === 'embeddings') return json(200, { data: [{ embedding: [0.1, 0.2] }] });
      json(404, { error: { message: 'nope', type: 'x', code: 'not_found' } });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => new Promise((r) => server.close(r)));

describe('RelayAPIClient over HTTP (stand-in relay)', () => {
  const client = () =>
    new RelayAPIClient(
      { ...seed, server: { host: 'http://127.0.0.1', port, base_path: '/relayapi/' } },
      { onWarning: () => {} },
    );
  const messages = [{ role: 'user', content: 'hi' }];

  it('healthCheck GETs {relay}/health under the base path', async () => {
    assert.deepEqual(await client().healthCheck(), { status: 'ok' });
    assert.equal(seen.at(-1).method, 'GET');
    assert.equal(seen.at(-1).url, '/relayapi/health');
  });

  it('chat posts the 1.x body to /t/{token}/v1/chat/completions; the token may be a promise', async () => {
    const c = client();
    const token = c.createToken({ apiKey: 'sk-1' }); // no await, as in 1.x
    const res = await c.chat({ messages, token });
    assert.equal(res.object, 'chat.completion');
    const req = seen.at(-1);
    assert.equal(req.url, `/relayapi/t/${await token}/v1/chat/completions`);
    assert.deepEqual(req.body, { messages, model: 'gpt-3.5-turbo', temperature: 0.7, max_tokens: 1000 });
    assert.equal(req.headers['content-type'], 'application/json');
    await c.chat({ messages, model: 'qwen-vl-max', temperature: 0.2, maxTokens: 50, token: await token });
    assert.deepEqual(seen.at(-1).body, { messages, model: 'qwen-vl-max', temperature: 0.2, max_tokens: 50 });
  });

  it('chat with stream: true yields the parsed chunks up to [DONE]', async () => {
    const c = client();
    const stream = await c.chat({ messages, token: c.createToken(), stream: true });
    assert.equal(seen.at(-1).body.stream, true);
    assert.equal(seen.at(-1).headers.accept, 'text/event-stream');
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((ch) => ch.object === 'chat.completion.chunk'));
    assert.equal(chunks.map((ch) => ch.choices[0].delta.content).join(''), 'Hello');
  });

  it('an error event in the stream throws RelayAPIError with its code', async () => {
    const c = client();
    const stream = await c.chat({
      messages: [{ role: 'user', content: 'mode-stream-error' }],
      token: c.createToken(),
      stream: true,
    });
    const got = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) got.push(chunk);
      })(),
      (e) => e instanceof RelayAPIError && e.code === 'upstream_error' && /upstream went away/.test(e.message),
    );
    assert.equal(got.length, 1);
  });

  it('generateImage and createEmbedding post the 1.x bodies with the 1.x defaults', async () => {
    const c = client();
    const token = c.createToken();
    assert.deepEqual(await c.generateImage({ prompt: 'a boat', token }), { data: [{ url: 'https://x/img.png' }] });
    assert.match(seen.at(-1).url, /^\/relayapi\/t\/[^/]+\/v1\/images\/generations$/);
    assert.deepEqual(seen.at(-1).body, {
      prompt: 'a boat',
      model: 'dall-e-3',
      size: '1024x1024',
      quality: 'standard',
      n: 1,
    });
    assert.deepEqual(await c.createEmbedding({ input: 'hello', token }), { data: [{ embedding: [0.1, 0.2] }] });
    assert.match(seen.at(-1).url, /^\/relayapi\/t\/[^/]+\/v1\/embeddings$/);
    assert.deepEqual(seen.at(-1).body, { input: 'hello', model: 'text-embedding-ada-002' });
  });

  it('relay errors become RelayAPIError with the relay code, status and type', async () => {
    const c = client();
    await assert.rejects(
      c.chat({ messages: [{ role: 'user', content: 'mode-limit' }], token: c.createToken() }),
      (e) => {
        assert.ok(e instanceof RelayAPIError);
        assert.equal(e.code, 'call_limit_exceeded');
        assert.equal(e.status, 429);
        assert.equal(e.type, 'relayapi_error');
        assert.equal(e.message, 'Chat request failed: The token has no calls left.');
        return true;
      },
    );
    await assert.rejects(c.chat({ messages: [{ role: 'user', content: 'mode-text-error' }], token: c.createToken() }), {
      code: 'http_error',
      status: 502,
      message: 'Chat request failed: HTTP 502',
    });
  });

  it('network errors are network_error and never show the token', async () => {
    const c = new RelayAPIClient({ ...seed, server: { host: 'http://127.0.0.1', port: 1, base_path: '/x/' } }, quiet);
    const token = await c.createToken();
    await assert.rejects(c.chat({ messages, token }), (e) => {
      assert.equal(e.code, 'network_error');
      assert.ok(!e.message.includes(token));
      return true;
    });
    await assert.rejects(c.healthCheck(), { code: 'network_error' });
  });

  it('a missing or 1.x token is invalid_argument', async () => {
    const c = client();
    await assert.rejects(c.chat({ messages }), isArgError('token', /required/));
    await assert.rejects(c.generateImage({ prompt: 'x', token: 'bm90LWEtand0' }), isArgError('token', /1\.x tokens/));
    await assert.rejects(c.createEmbedding({ input: 'x', token: Promise.resolve('') }), isArgError('token'));
  });

  it('uses options.fetch when given', async () => {
    const calls = [];
    const fake = async (url, init) => {
      calls.push([url, init.method]);
      return new Response('{"status":"ok"}', { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const c = new RelayAPIClient(seed, { fetch: fake, onWarning: () => {} });
    assert.deepEqual(await c.healthCheck(), { status: 'ok' });
    assert.deepEqual(calls, [['http://localhost:8840/relayapi/health', 'GET']]);
  });
});

describe('deprecation warnings', () => {
  it('one DeprecationWarning per 1.x name per process, naming the new API', async () => {
    const dir = await tempDir();
    const rai = await writeJSON(join(dir, 'k.rai'), seed);
    const script = `
      import { RelayAPIClient, TokenGenerator } from 'relayapi';
      const warnings = [];
      process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
      const fetch = async () => new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
      for (let i = 0; i < 2; i++) {
        const c = new RelayAPIClient(process.argv[1], { fetch, onWarning: () => {} });
        const token = await c.createToken();
        c.generateUrl(token);
        await c.healthCheck();
        await c.chat({ messages: [], token });
        await c.generateImage({ prompt: 'x', token });
        await c.createEmbedding({ input: 'x', token });
        const g = new TokenGenerator(process.argv[1], { onWarning: () => {} });
        await g.encryptToken(g.createToken());
        g.getServerUrl('health');
      }
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify(warnings));
    `;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script, rai], {
      cwd: join(here, '..'),
    });
    const warnings = JSON.parse(stdout);
    const expected = {
      RELAYAPI_1X_RELAYAPICLIENT: /new RelayAPI\(config\)/,
      RELAYAPI_1X_CREATETOKEN: /relay\.createToken/,
      RELAYAPI_1X_GENERATEURL: /relay\.baseURL\(token\)/,
      RELAYAPI_1X_HEALTHCHECK: /\/health/,
      RELAYAPI_1X_CHAT: /chat\.completions\.create/,
      RELAYAPI_1X_GENERATEIMAGE: /images\.generate/,
      RELAYAPI_1X_CREATEEMBEDDING: /embeddings\.create/,
      RELAYAPI_1X_TOKENGENERATOR: /new RelayAPI\(config\)/,
      RELAYAPI_1X_TOKENGENERATOR_CREATETOKEN: /relay\.buildClaims/,
      RELAYAPI_1X_ENCRYPTTOKEN: /relay\.createToken/,
      RELAYAPI_1X_GETSERVERURL: /relay\.relayURL/,
    };
    assert.deepEqual(warnings.map((w) => w.code).sort(), Object.keys(expected).sort());
    for (const w of warnings) {
      assert.equal(w.name, 'DeprecationWarning');
      assert.match(w.message, expected[w.code]);
      assert.match(w.message, /migrating-from-1\.x/);
    }
  });

  it('the type declarations mark the 1.x API @deprecated', () => {
    const dts = readFileSync(join(here, '../dist/index.d.ts'), 'utf8');
    const documented = (re) => [...dts.matchAll(re)].filter((m) => m[1].includes('@deprecated')).map((m) => m[2]);
    const classes = documented(/\/\*\*((?:(?!\*\/)[^])*)\*\/\s*declare class (\w+)/g);
    assert.deepEqual(classes.sort(), ['RelayAPIClient', 'TokenGenerator']);
    const methods = documented(/\/\*\*((?:(?!\*\/)[^])*)\*\/\s*(?:constructor|(\w+))\(/g);
    const names = ['createToken', 'generateUrl', 'healthCheck', 'chat', 'generateImage', 'createEmbedding'];
    for (const m of [...names, 'encryptToken', 'getServerUrl']) assert.ok(methods.includes(m), m);
    // every overload carries the tag
    assert.equal(methods.filter((m) => m === 'generateUrl').length, 2);
    assert.equal(methods.filter((m) => m === 'chat').length, 3);
  });
});
