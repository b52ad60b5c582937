// RelayAPI 1.x backend code against the real relay: `relayapi serve` (base path
// /relayapi, loading a default.rai exactly as 1.x wrote it) in front of the Go mock
// provider, which stands in for both `openai` and `dashscope`.
// Binaries: RELAYAPI_BIN / MOCKPROVIDER_BIN, else built from ../../server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { RelayAPIClient, RelayAPIError, TokenGenerator } from '../dist/index.js';
import { here, makeV1Rai, mockRequests, readJSON, startV1Relay, stopChildren } from './helpers.mjs';

const execFileP = promisify(execFile);
process.noDeprecation = true; // deprecation warnings are checked in legacy.test.mjs

let env;
before(async () => {
  env = await startV1Relay();
});
after(stopChildren);

const messages = [{ role: 'user', content: 'Say hello' }];
const uniqueKey = (name) => `sk-${name}-${crypto.randomUUID()}`;
const lastRequest = async (key, path = '/v1/chat/completions') =>
  (await mockRequests(env.mockURL, { key, path })).at(-1);

describe('RelayAPI 1.x backend code against the relay', () => {
  it('the 1.x example (relayapi-sdk examples/chat.js) runs unchanged', async () => {
    const key = uniqueKey('v1-example');
    const { stdout, stderr } = await execFileP(process.execPath, [join(here, 'fixtures/v1-example-chat.mjs')], {
      cwd: env.dir, // holds the 1.x default.rai the relay loads
      env: { ...process.env, RELAY_API_KEY: key, NODE_NO_WARNINGS: '1' },
      timeout: 60_000,
    });
    assert.doesNotMatch(stderr, /Error:/, `${stdout}\n${stderr}\n${env.proc.log()}`);
    for (const line of [
      'Token created:',
      'Server health status:',
      'Chat response:',
      'Image response:',
      'Embedding response:',
    ]) {
      assert.ok(stdout.includes(line), `${line} missing:\n${stdout}`);
    }
    assert.match(stdout, /status: 'ok'/);
    const chat = await lastRequest(key);
    assert.equal(chat.model, 'qwen-vl-max');
    assert.equal(chat.stream, true);
    assert.ok(await lastRequest(key, '/v1/images/generations'));
    assert.ok(await lastRequest(key, '/v1/embeddings'));
  });

  for (const from of ['a 1.x .rai file path', 'a 1.x .rai object']) {
    it(`from ${from}: createToken without await, passed to chat`, async () => {
      const client = new RelayAPIClient(from.includes('path') ? env.raiFile : await readJSON(env.raiFile));
      const apiKey = uniqueKey('from');
      const token = client.createToken({ apiKey, maxCalls: 100, expireDays: 1, provider: 'openai' });
      const res = await client.chat({ messages, token });
      assert.equal(res.object, 'chat.completion');
      assert.ok(res.choices[0].message.content.length > 0);
      const seen = await lastRequest(apiKey);
      assert.equal(seen.model, 'gpt-3.5-turbo');
      assert.equal(seen.max_tokens, 1000);
    });
  }

  it('generateUrl with an awaited token: the official openai client chats through it', async () => {
    const client = new RelayAPIClient(env.raiFile);
    const token = await client.createToken({ apiKey: uniqueKey('url'), maxCalls: 10, provider: 'openai' });
    const baseURL = client.generateUrl(token);
    assert.equal(baseURL, `http://127.0.0.1:${env.port}/relayapi/t/${token}/v1`);
    const openai = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
    const chat = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    assert.ok(chat.choices[0].message.content.length > 0);
    // Both argument orders give a URL the relay serves.
    for (const url of [
      client.generateUrl('v1/chat/completions', token),
      client.generateUrl(token, 'chat/completions'),
    ]) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).object, 'chat.completion');
    }
  });

  it('healthCheck, generateImage, createEmbedding', async () => {
    const client = new RelayAPIClient(env.raiFile);
    const health = await client.healthCheck();
    assert.equal(health.status, 'ok');
    const token = client.createToken({ apiKey: uniqueKey('img'), maxCalls: 10 }); // provider dashscope
    const image = await client.generateImage({ prompt: 'A paper boat', token });
    assert.match(image.data[0].url, /^https:\/\//);
    const embedding = await client.createEmbedding({ input: 'RelayAPI', token });
    assert.ok(embedding.data[0].embedding.length > 0);
  });

  it('chat with stream: true yields the chunks', async () => {
    const client = new RelayAPIClient(env.raiFile);
    const apiKey = uniqueKey('stream');
    const stream = await client.chat({
      messages: [{ role: 'user', content: 'Count from one to five please' }],
      token: client.createToken({ apiKey, provider: 'openai' }),
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.ok(chunks > 2, `only ${chunks} chunks`);
    assert.match(text, /Count from one to five please/);
    assert.equal((await lastRequest(apiKey)).stream, true);
  });

  it('maxCalls: 2 → the third call fails with call_limit_exceeded', async () => {
    const client = new RelayAPIClient(env.raiFile);
    const token = await client.createToken({ apiKey: uniqueKey('limit'), maxCalls: 2, provider: 'openai' });
    await client.chat({ messages, token });
    await client.createEmbedding({ input: 'x', token });
    await assert.rejects(client.chat({ messages, token }), (e) => {
      assert.ok(e instanceof RelayAPIError, e);
      assert.equal(e.code, 'call_limit_exceeded');
      assert.equal(e.status, 429);
      assert.match(e.message, /^Chat request failed: /);
      return true;
    });
  });

  it('extInfo rep_m: the provider sees that model whatever was asked (model_map "*")', async () => {
    const client = new RelayAPIClient(env.raiFile);
    const apiKey = uniqueKey('repm');
    const token = client.createToken({ apiKey, extInfo: '{"rep_m":"gpt-4o-mini","user":"u-42"}', provider: 'openai' });
    const res = await client.chat({ messages, model: 'gpt-3.5-turbo', token });
    assert.ok(res.choices[0].message.content.length > 0);
    assert.equal((await lastRequest(apiKey)).model, 'gpt-4o-mini');
  });

  it('TokenGenerator: createToken claims, encryptToken → a token the relay accepts', async () => {
    const gen = new TokenGenerator(env.raiFile);
    const apiKey = uniqueKey('gen');
    const data = gen.createToken({ apiKey, maxCalls: 5, provider: 'openai' });
    assert.equal(data.max_calls, 5);
    const token = await gen.encryptToken(data);
    assert.equal(gen.getServerUrl('health'), `http://127.0.0.1:${env.port}/relayapi/health`);
    const res = await new RelayAPIClient(env.raiFile).chat({ messages, token });
    assert.ok(res.choices[0].message.content.length > 0);
    assert.ok(await lastRequest(apiKey));
  });

  it('a token from another key: RelayAPIError invalid_token (401)', async () => {
    const other = new RelayAPIClient(makeV1Rai(env.port), { onWarning: () => {} });
    await assert.rejects(other.chat({ messages, token: other.createToken({ apiKey: 'sk-x' }) }), {
      name: 'RelayAPIError',
      code: 'invalid_token',
      status: 401,
    });
  });
});
