// End to end: the real `relayapi serve` in front of the Go mock provider; this SDK
// mints, the official `openai` package streams a chat completion through the relay.
// Binaries: RELAYAPI_BIN / MOCKPROVIDER_BIN, else built from ../../server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { RelayAPI } from '../dist/index.js';
import {
  freePort,
  goBinary,
  here,
  makeEccFiles,
  makeAesFile,
  start,
  startMock,
  stopChildren,
  tempDir,
  waitHTTP,
  writeJSON,
} from './helpers.mjs';

const execFileP = promisify(execFile);

const ADMIN_KEY = 'integration-admin-key-0123456789';
after(stopChildren);

let mockURL;
before(async () => {
  ({ url: mockURL } = await startMock());
});

async function startRelay(method) {
  const relayBin = await goBinary('relayapi', 'RELAYAPI_BIN');
  const dir = await tempDir('relayapi-it-');
  const port = await freePort();
  const server = { host: '127.0.0.1', port, base_path: '' };
  let backendRai;
  let relayRai;
  if (method === 'aes') {
    backendRai = relayRai = makeAesFile({ server });
  } else {
    ({ backend: backendRai, relay: relayRai } = await makeEccFiles({ server }));
  }
  const raiFile = await writeJSON(join(dir, `${method}.rai`), relayRai);
  const backendFile = await writeJSON(join(dir, `${method}-backend.rai`), backendRai);
  const config = await writeJSON(join(dir, 'config.json'), {
    providers: { mock: { base_url: mockURL, auth: 'bearer' } },
    admin: { key: ADMIN_KEY },
    store: { driver: 'sqlite', url: '' },
  });
  const proc = start(
    relayBin,
    ['serve', '--config', config, '--rai', raiFile, '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`],
    `relayapi serve (${method})`,
  );
  const health = await waitHTTP(`http://127.0.0.1:${port}/health`, proc);
  assert.equal(health.status, 200);
  return { sdk: new RelayAPI(backendRai, { adminKey: ADMIN_KEY }), proc, backendFile };
}

for (const method of ['aes', 'ecc']) {
  describe(`relay serve + mock provider (${method})`, () => {
    let sdk;
    let proc;
    let backendFile;
    before(async () => {
      ({ sdk, proc, backendFile } = await startRelay(method));
    });

    it('streams a chat completion through the official openai client', async () => {
      const token = await sdk.createToken({ provider: 'mock', apiKey: 'sk-mock-upstream-key', maxCalls: 10 });
      const client = await sdk.openai({ token, maxRetries: 0, timeout: 20_000 });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let chunks = 0;
      let usage;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.ok(chunks > 1, `expected several SSE chunks, got ${chunks}\n${proc.log()}`);
      assert.ok(text.length > 0, 'streamed text is empty');
      assert.ok(usage && usage.total_tokens > 0, 'the final chunk carries usage');
    });

    it('a non-streaming chat completion and embeddings through a base URL', async () => {
      const url = await sdk.generateURL({ provider: 'mock', apiKey: 'sk-mock-upstream-key', maxCalls: 10 });
      const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
      const chat = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.ok(chat.choices[0].message.content.length > 0);
      const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
      assert.ok(emb.data[0].embedding.length > 0);
    });

    it('examples/chat.js runs against the relay (chat, stream, image, embeddings)', async () => {
      const env = {
        ...process.env,
        RELAYAPI_RAI: backendFile,
        RELAYAPI_PROVIDER: 'mock',
        OPENAI_API_KEY: 'sk-mock-upstream-key',
        CHAT_MODEL: 'gpt-4o-mini',
        IMAGE_MODEL: 'dall-e-3',
        EMBEDDING_MODEL: 'text-embedding-3-small',
      };
      const { stdout } = await execFileP(process.execPath, [join(here, '../examples/chat.js')], {
        cwd: join(here, '..'),
        env,
        timeout: 60_000,
      }).catch((e) => {
        throw new Error(`chat.js failed: ${e.stdout}\n${e.stderr}\n${proc.log()}`);
      });
      for (const line of ['chat:', 'stream:', 'image:', 'embedding dimensions:', 'relay.openai():']) {
        assert.match(stdout, new RegExp(`^${line.replace(/[()]/g, '\\$&')} .+`, 'm'));
      }
    });

    it('the relay enforces the limits minted by the SDK (models, max_calls)', async () => {
      const client = await sdk.openai({
        tokenOptions: { provider: 'mock', apiKey: 'sk-mock-upstream-key', maxCalls: 1, models: ['gpt-4o*'] },
        maxRetries: 0,
      });
      const ask = (model) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      await assert.rejects(ask('o1-preview'), (e) => {
        assert.equal(e.status, 403);
        assert.equal(e.code, 'model_not_allowed');
        return true;
      });
      assert.ok((await ask('gpt-4o-mini')).choices.length > 0);
      await assert.rejects(ask('gpt-4o-mini'), (e) => {
        assert.equal(e.status, 429);
        assert.equal(e.code, 'call_limit_exceeded');
        return true;
      });
    });

    it('the relay answers invalid_token (401) for a token from another key', async () => {
      const other = new RelayAPI(method === 'aes' ? makeAesFile() : (await makeEccFiles()).backend, {
        relayURL: sdk.relayURL,
      });
      const client = await other.openai({ tokenOptions: { provider: 'mock', apiKey: 'sk-x' }, maxRetries: 0 });
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        (e) => {
          assert.equal(e.status, 401);
          assert.equal(e.code, 'invalid_token');
          return true;
        },
      );
    });
  });
}
