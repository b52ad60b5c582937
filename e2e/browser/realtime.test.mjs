// Realtime sessions (WebSocket, docs/api.md "Realtime sessions") through the real
// `relayapi serve`, in front of the Go mock provider speaking the OpenAI Realtime
// GA protocol, driven by the official openai-node clients:
//
//   - OpenAIRealtimeWS (openai/realtime/ws, on the `ws` package) from Node, the
//     server-side client: a conversation turn, the admin API's accounting, a
//     refused session.update, revocation of a live session, the concurrency slot;
//   - OpenAIRealtimeWebSocket (openai/realtime/websocket) in a page that Chromium
//     loads from one origin, the relay being another: the allowed origin works,
//     a page on an origin the token does not list is refused at the handshake.
//
// openai-node always dials wss:// (realtime/internal-base.mjs buildRealtimeURL sets
// url.protocol = 'wss' whatever the baseURL's scheme), so the relay serves HTTPS
// from a throwaway certificate: Node is given its CA (`options.ca`, passed on to
// `ws`), Chromium trusts the leaf by its key (--ignore-certificate-errors-spki-list).
//
// Needs: the Go binaries (RELAYAPI_BIN / MOCKPROVIDER_BIN, else `go build` of
// ../../server), the openssl CLI, and /usr/bin/chromium (CHROMIUM_BIN overrides)
// for the page.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  Processes,
  accessLog as accessLogOf,
  execFileP,
  goBinary,
  here,
  makeCertificate,
} from './harness.mjs';

const MODEL = 'gpt-realtime';
const OTHER_MODEL = 'gpt-realtime-mini';
const ADMIN_KEY = `e2e-admin-${randomBytes(12).toString('hex')}`;
// One real upstream key per test, each given to the mock with --realtime-key:
// the mock refuses any other key (close 3000), and counts sessions per key.
const KEYS = Object.fromEntries(
  ['turn', 'header', 'model', 'revoke', 'concurrency', 'budget', 'budgetVAD', 'page', 'pageSubprotocol', 'otherOrigin'].map((name) => [
    name,
    `sk-e2e-rt-${name}-${randomBytes(10).toString('hex')}`,
  ]),
);
const WAIT_MS = 10_000;

const procs = new Processes();
const tokens = []; // every token minted, to check none reached the provider
let work;
let relayBin;
let raiFile;
let cert;
let ca;
let relayURL;
let mockURL;

// --- helpers ----------------------------------------------------------------------

// The mock's deterministic answer (server/internal/mockprovider/tokens.go; e2e
// relaytest.expected_completion): "Hello from mock: " + the prompt, one token a word.
function expectedCompletion(prompt) {
  const words = `Hello from mock: ${[...prompt].slice(0, 512).join('')}`.split(' ');
  return { text: words.join(' '), tokens: words.length };
}

// The mock's prompt token count (PromptTokens): runes / 4, at least 1.
const promptTokens = (text) => Math.max(1, Math.floor([...text].length / 4));

// Resolves with promise, or fails after ms.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls cond() (an async function) until it returns a truthy value; fails after ms.
async function waitUntil(cond, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function mint({ apiKey, jti, ...claims }) {
  const args = ['token', '--rai', raiFile, '--provider', 'mock', '--api-key', apiKey, '--jti', jti];
  args.push('--models', MODEL, '--expires-in', '10m');
  for (const [name, value] of Object.entries(claims)) {
    args.push(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
  }
  const { stdout } = await execFileP(relayBin, args);
  const token = stdout.trim();
  tokens.push(token);
  return token;
}

const newJTI = (name) => `rt-${name}-${randomBytes(6).toString('hex')}`;

// The admin API over HTTPS (Node's fetch cannot be given a CA; node:https can).
function admin(method, path) {
  return new Promise((resolveReq, reject) => {
    const req = httpsRequest(
      `${relayURL}${path}`,
      { method, ca, headers: { authorization: `Bearer ${ADMIN_KEY}` }, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolveReq({ status: res.statusCode, body: JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function tokenUsage(jti) {
  const { status, body } = await admin('GET', `/admin/tokens/${jti}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

async function mockStats() {
  const res = await fetch(`${mockURL}/_mock/stats`);
  assert.equal(res.status, 200);
  return res.json();
}

async function mockRequests(key) {
  const res = await fetch(`${mockURL}/_mock/requests${key ? `?key=${encodeURIComponent(key)}` : ''}`);
  assert.equal(res.status, 200);
  return (await res.json()).data;
}

// The mock records a session's status (101) when the session ends on its side,
// which can be a moment after the client has seen its close: wait for that.
async function settledMockRequests(key, count) {
  return waitUntil(
    async () => {
      const reqs = await mockRequests(key);
      return reqs.length === count && reqs.every((r) => r.status !== 0) && reqs;
    },
    WAIT_MS,
    `${count} settled session(s) at the mock`,
  );
}

const relayLog = () => accessLogOf(procs.find('relayapi'));

// The access log lines of a token's sessions (handshakes refused or sessions
// ended: a line is written once the call is settled).
const sessionLogLines = (jti) => relayLog().filter((l) => l.jti === jti && l.path.endsWith('/v1/realtime'));

// A session opened with openai-node's server-side client, the token in the base
// URL's path as docs/api.md shows (or, form "header", as the API key, which the
// client sends as Authorization: Bearer); what it sees is recorded.
async function openNodeSession(token, { model = MODEL, form = 'path' } = {}) {
  const client =
    form === 'path'
      ? new OpenAI({ baseURL: `${relayURL}/t/${token}/v1`, apiKey: 'unused' })
      : new OpenAI({ baseURL: `${relayURL}/v1`, apiKey: token });
  const rt = await OpenAIRealtimeWS.create(client, { model, options: { ca } });
  const seen = { events: [], errors: [] };
  rt.on('event', (ev) => seen.events.push(ev));
  rt.on('error', (err) => seen.errors.push(err));
  seen.closed = new Promise((r) => rt.socket.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  return { rt, seen };
}

// Sends one user message and a text response.create; resolves with the deltas'
// text, their count and response.done's usage.
async function turn(rt, prompt) {
  let text = '';
  let deltas = 0;
  const onDelta = (ev) => {
    text += ev.delta;
    deltas++;
  };
  rt.on('response.output_text.delta', onDelta);
  const done = rt.emitted('response.done');
  rt.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] },
  });
  rt.send({ type: 'response.create', response: { output_modalities: ['text'] } });
  const ev = await within(done, WAIT_MS, 'response.done');
  rt.off('response.output_text.delta', onDelta);
  return { text, deltas, usage: ev.response.usage };
}

// --- setup and teardown -------------------------------------------------------------

before(
  async () => {
    work = await mkdtemp(join(tmpdir(), 'relayapi-realtime-'));
    let mockBin;
    [relayBin, mockBin] = await Promise.all([
      goBinary(work, 'relayapi', 'RELAYAPI_BIN'),
      goBinary(work, 'mockprovider', 'MOCKPROVIDER_BIN'),
    ]);
    const mock = await procs.start(
      'mockprovider',
      mockBin,
      ['--listen', '127.0.0.1:0', ...Object.values(KEYS).flatMap((k) => ['--realtime-key', k])],
      { ready: /listening on (\S+)/ },
    );
    mockURL = `http://${mock[1]}`;

    cert = await makeCertificate(await mkdtemp(join(work, 'tls-')));
    ca = await readFile(cert.caFile);
    raiFile = join(work, 'app.rai');
    await execFileP(relayBin, ['keygen', '--method', 'aes', '--out', raiFile]);
    const config = join(work, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        providers: { mock: { base_url: mockURL, auth: 'bearer' } },
        admin: { key: ADMIN_KEY },
        store: { driver: 'sqlite', url: '' },
        token: { leeway: '0s' },
        // Debug logging: the secrets check at the end must hold even then.
        log: { level: 'debug', format: 'json' },
        tls: { cert_file: cert.certFile, key_file: cert.keyFile },
        // realtime.revocation_check stays at its default, 2 s.
      }),
    );
    const relay = await procs.start(
      'relayapi',
      relayBin,
      ['serve', '--config', config, '--rai', raiFile, '--data', join(work, 'data'), '--listen', '127.0.0.1:0'],
      { ready: /"msg":"relay listening","addr":"([^"]+)","scheme":"https"/ },
    );
    relayURL = `https://${relay[1]}`;
  },
  { timeout: 360_000 },
);

after(async () => {
  // No relay token, of any test, reached the provider; the relay logged no
  // token and no real key (the subprotocol form carries the token in a header).
  const everything = mockURL ? JSON.stringify(await mockRequests().catch(() => [])) : '';
  await procs.stopAll();
  if (work) await rm(work, { recursive: true, force: true });
  const relayOutput = procs.find('relayapi')?.log ?? '';
  for (const token of tokens) {
    assert.ok(!everything.includes(token), 'a relay token reached the provider');
    assert.ok(!relayOutput.includes(token), 'the relay logged a token');
  }
  for (const key of Object.values(KEYS)) assert.ok(!relayOutput.includes(key), 'the relay logged a real key');
});

// --- openai-node, server side -----------------------------------------------------------

describe('openai-node OpenAIRealtimeWS through the relay', () => {
  it('relays a conversation turn with the real key; the admin API shows one call and its usage', async (t) => {
    const started = Date.now();
    const jti = newJTI('turn');
    const token = await mint({ apiKey: KEYS.turn, jti, maxCalls: 5 });
    const { rt, seen } = await openNodeSession(token);
    const created = await within(rt.emitted('session.created'), WAIT_MS, 'session.created');
    assert.equal(created.session.model, MODEL);

    const prompt = 'tell me something about relays and sockets';
    const want = expectedCompletion(prompt);
    const got = await turn(rt, prompt);
    assert.equal(got.text, want.text);
    assert.equal(got.deltas, want.tokens);
    const wantInput = promptTokens(created.session.instructions) + promptTokens(prompt);
    assert.equal(got.usage.output_tokens, want.tokens, JSON.stringify(got.usage));
    assert.equal(got.usage.input_tokens, wantInput, JSON.stringify(got.usage));
    assert.equal(got.usage.total_tokens, want.tokens + wantInput);
    assert.deepEqual(seen.errors, []);

    rt.close({ code: 1000, reason: 'bye' });
    assert.deepEqual(await within(seen.closed, WAIT_MS, 'the close'), { code: 1000, reason: 'bye' });

    // The relay settles the session when it ends: one call, the usage of response.done.
    const usage = await waitUntil(
      async () => {
        const u = await tokenUsage(jti);
        return u.prompt_tokens + u.completion_tokens > 0 && u;
      },
      WAIT_MS,
      'the session to be settled',
    );
    assert.equal(usage.calls, 1, JSON.stringify(usage));
    assert.equal(usage.prompt_tokens, got.usage.input_tokens, JSON.stringify(usage));
    assert.equal(usage.completion_tokens, got.usage.output_tokens, JSON.stringify(usage));
    assert.equal(usage.tokens_used, got.usage.total_tokens);
    assert.equal(usage.refunds, 0);
    assert.equal(usage.last_error, null);

    // The provider saw exactly one session, with the real key (the mock takes no
    // other: --realtime-key), and the relay token nowhere.
    const reqs = await settledMockRequests(KEYS.turn, 1);
    assert.equal(reqs[0].path, '/v1/realtime');
    assert.equal(reqs[0].status, 101);
    const headers = Object.fromEntries(Object.entries(reqs[0].headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(headers.authorization, [`Bearer ${KEYS.turn}`]);
    assert.equal((await mockStats()).by_key[KEYS.turn], 1);
    const everything = JSON.stringify(await mockRequests());
    assert.ok(!everything.includes(token), 'the relay token reached the provider');

    const line = await waitUntil(async () => sessionLogLines(jti)[0], WAIT_MS, 'the access log line');
    assert.equal(line.status, 101, JSON.stringify(line));
    assert.equal(line.token_in, 'path');
    t.diagnostic(`turn test: ${Date.now() - started} ms`);
  });

  it("takes the token as the client's API key (Authorization: Bearer) too", async () => {
    const jti = newJTI('header');
    const token = await mint({ apiKey: KEYS.header, jti });
    const { rt, seen } = await openNodeSession(token, { form: 'header' });
    await within(rt.emitted('session.created'), WAIT_MS, 'session.created');
    const prompt = 'the token went as a bearer key';
    assert.equal((await turn(rt, prompt)).text, expectedCompletion(prompt).text);
    rt.close();
    assert.equal((await within(seen.closed, WAIT_MS, 'the close')).code, 1000);
    const line = await waitUntil(async () => sessionLogLines(jti)[0], WAIT_MS, 'the access log line');
    assert.equal(line.token_in, 'authorization', JSON.stringify(line));
    // The provider got the real key in place of the token.
    const [req] = await mockRequests(KEYS.header);
    const auth = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'authorization')[1];
    assert.deepEqual(auth, [`Bearer ${KEYS.header}`]);
  });

  it('answers a session.update to a model outside the token with model_not_allowed, through rt.on("error")', async () => {
    const jti = newJTI('model');
    const token = await mint({ apiKey: KEYS.model, jti });
    const { rt, seen } = await openNodeSession(token);
    await within(rt.emitted('session.created'), WAIT_MS, 'session.created');

    const errored = rt.emitted('error'); // the SDK's error path: an OpenAIRealtimeError
    rt.send({ type: 'session.update', event_id: 'evt_client_1', session: { type: 'realtime', model: OTHER_MODEL } });
    const err = await within(errored, WAIT_MS, 'the error event');
    assert.equal(err.constructor.name, 'OpenAIRealtimeError');
    assert.equal(err.error.code, 'model_not_allowed', err.message);
    assert.equal(err.error.type, 'invalid_request_error');
    assert.equal(err.error.param, 'session.model');
    assert.equal(err.error.event_id, 'evt_client_1');
    assert.match(err.event_id, /^evt_relay_/); // the relay's, not the provider's
    assert.match(err.message, /code=model_not_allowed/);

    // The session goes on: the event was not forwarded (the mock would have
    // answered invalid_value), and a turn still works.
    const prompt = 'still here after the refusal?';
    assert.equal((await turn(rt, prompt)).text, expectedCompletion(prompt).text);
    assert.equal(seen.errors.length, 1);
    assert.deepEqual(
      seen.events.filter((e) => e.type === 'error').map((e) => e.error.code),
      ['model_not_allowed'],
    );
    rt.close();
    assert.equal((await within(seen.closed, WAIT_MS, 'the close')).code, 1000);
  });

  it('closes a live session with 4001 once the token is revoked', async (t) => {
    const jti = newJTI('revoke');
    const token = await mint({ apiKey: KEYS.revoke, jti });
    const { rt, seen } = await openNodeSession(token);
    await within(rt.emitted('session.created'), WAIT_MS, 'session.created');
    const before = await mockStats();

    const revokedAt = Date.now();
    const { status, body } = await admin('POST', `/admin/tokens/${jti}/revoke`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body, { jti, revoked: true });
    // realtime.revocation_check is 2 s: the close comes within that, plus slack.
    const closed = await within(seen.closed, 5_000, 'the revoked session to close');
    const elapsed = Date.now() - revokedAt;
    assert.equal(closed.code, 4001, JSON.stringify(closed));
    assert.match(closed.reason, /^token_revoked/);
    t.diagnostic(`closed ${elapsed} ms after the revocation`);

    // The provider's side was closed too, and the relay logged the end.
    await waitUntil(async () => (await mockStats()).in_flight < before.in_flight, WAIT_MS, 'the mock session to end');
    const line = await waitUntil(async () => sessionLogLines(jti)[0], WAIT_MS, 'the access log line');
    assert.equal(line.code, 'token_revoked', JSON.stringify(line));
    assert.equal((await tokenUsage(jti)).revoked, true);
  });

  it('refuses a second session on a concurrency 1 token while the first is open (429)', async () => {
    const jti = newJTI('concurrency');
    const token = await mint({ apiKey: KEYS.concurrency, jti, concurrency: 1 });
    const first = await openNodeSession(token);
    await within(first.rt.emitted('session.created'), WAIT_MS, 'the first session.created');

    const second = await openNodeSession(token);
    const err = await within(second.rt.emitted('error'), WAIT_MS, 'the second session to fail');
    assert.match(err.message, /Unexpected server response: 429/);
    assert.equal((await within(second.seen.closed, WAIT_MS, 'the second close')).code, 1006);
    assert.equal(second.seen.events.length, 0);
    const refused = await waitUntil(
      async () => sessionLogLines(jti).find((l) => l.status === 429),
      WAIT_MS,
      'the refusal in the access log',
    );
    assert.equal(refused.code, 'concurrency_limited', JSON.stringify(refused));

    // The first session is untouched by the refusal.
    const prompt = 'the first session still answers';
    assert.equal((await turn(first.rt, prompt)).text, expectedCompletion(prompt).text);
    first.rt.close();
    assert.equal((await within(first.seen.closed, WAIT_MS, 'the first close')).code, 1000);

    // Once the first is settled (its access log line), the slot is free again.
    await waitUntil(async () => sessionLogLines(jti).some((l) => l.status === 101), WAIT_MS, 'the first to settle');
    const third = await openNodeSession(token);
    await within(third.rt.emitted('session.created'), WAIT_MS, 'the third session.created');
    third.rt.close();
    await within(third.seen.closed, WAIT_MS, 'the third close');

    // Only the admitted sessions reached the provider and were counted.
    assert.equal((await mockRequests(KEYS.concurrency)).length, 2);
    await waitUntil(
      async () => sessionLogLines(jti).filter((l) => l.status === 101).length === 2,
      WAIT_MS,
      'the third to settle',
    );
    assert.equal((await tokenUsage(jti)).calls, 2);
  });
});

// --- token_budget on a live session -------------------------------------------------------

describe('token_budget on a session, seen by openai-node', () => {
  it('charges each response as it ends, caps the last ones and refuses what no longer fits (rt.on("error"))', async (t) => {
    const jti = newJTI('budget');
    const budget = 3000;
    const token = await mint({ apiKey: KEYS.budget, jti, tokenBudget: budget });
    const { rt, seen } = await openNodeSession(token);
    await within(rt.emitted('session.created'), WAIT_MS, 'session.created');
    let billed = 0;
    let refusal;
    const caps = [];
    for (let i = 0; i < 30 && !refusal; i++) {
      // The SDK rejects what it awaits with the error event's OpenAIRealtimeError.
      const done = rt.emitted('response.done').catch((refused) => ({ refused }));
      rt.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `turn ${i}: tell me more` }] },
      });
      rt.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      const ev = await within(done, WAIT_MS, 'an answer');
      if (ev.refused) {
        refusal = ev.refused;
        break;
      }
      billed += ev.response.usage.total_tokens;
      caps.push(ev.response.max_output_tokens);
      // Charged while the session is open.
      await waitUntil(async () => (await tokenUsage(jti)).tokens_used === billed, WAIT_MS, 'the charge');
    }
    assert.ok(refusal, 'no response.create was refused');
    assert.equal(refusal.constructor.name, 'OpenAIRealtimeError');
    assert.equal(refusal.error.code, 'budget_exceeded', refusal.message);
    assert.ok(caps.length >= 1 && caps.every((c) => c <= 4096), JSON.stringify(caps));
    assert.ok(caps.at(-1) < 4096, `the last answers are capped to what is left: ${JSON.stringify(caps)}`);
    rt.close();
    assert.equal((await within(seen.closed, WAIT_MS, 'the close')).code, 1000);
    const usage = await waitUntil(
      async () => {
        const u = await tokenUsage(jti);
        return u.tokens_reserved === 0 && u;
      },
      WAIT_MS,
      'the session to settle',
    );
    assert.equal(usage.tokens_used, billed);
    assert.ok(usage.tokens_used <= budget, JSON.stringify(usage));
    t.diagnostic(`${caps.length} responses, ${billed} of ${budget} tokens, caps ${caps.join(',')}`);
  });

  it('closes a voice session with 4002 when the budget cannot hold the next automatic response', async (t) => {
    const jti = newJTI('budget-vad');
    const budget = 2500;
    const token = await mint({ apiKey: KEYS.budgetVAD, jti, tokenBudget: budget, maxTokens: 50 });
    const { rt, seen } = await openNodeSession(token);
    await within(rt.emitted('session.created'), WAIT_MS, 'session.created');
    const updated = rt.emitted('session.updated');
    rt.send({
      type: 'session.update',
      session: { type: 'realtime', output_modalities: ['text'], audio: { input: { turn_detection: { type: 'server_vad' } } } },
    });
    assert.equal((await within(updated, WAIT_MS, 'session.updated')).session.audio.input.turn_detection.type, 'server_vad');

    // One spoken turn for the mock's VAD: 100 ms of speech, 500 ms of silence (PCM16, 24 kHz).
    const pcm = Buffer.alloc(4800 + 24000);
    pcm.fill(0x11, 0, 4800);
    const audio = pcm.toString('base64');
    const dones = [];
    rt.on('response.done', (ev) => dones.push(ev.response));
    let closed;
    seen.closed.then((c) => (closed = c));
    for (let i = 0; i < 50 && !closed; i++) {
      const next = dones.length;
      rt.send({ type: 'input_audio_buffer.append', audio });
      await within(
        waitUntil(async () => dones.length > next || closed, WAIT_MS, 'an automatic response or the close'),
        WAIT_MS,
        'the turn',
      );
    }
    const end = await within(seen.closed, WAIT_MS, 'the close');
    assert.equal(end.code, 4002, JSON.stringify(end));
    assert.match(end.reason, /^budget_exceeded/);
    assert.ok(dones.length >= 2, `${dones.length} automatic responses before the close`);
    assert.ok(dones.every((r) => r.max_output_tokens === 50 && r.usage.output_tokens <= 50), JSON.stringify(dones));
    const usage = await waitUntil(
      async () => {
        const u = await tokenUsage(jti);
        return u.tokens_reserved === 0 && u;
      },
      WAIT_MS,
      'the session to settle',
    );
    assert.ok(usage.tokens_used <= budget, JSON.stringify(usage));
    assert.equal(usage.last_error, 'budget_exceeded');
    const line = await waitUntil(async () => sessionLogLines(jti)[0], WAIT_MS, 'the access log line');
    assert.equal(line.code, 'budget_exceeded', JSON.stringify(line));
    t.diagnostic(`${dones.length} automatic responses, ${usage.tokens_used} of ${budget} tokens charged`);
  });
});

// --- a page on another origin, in Chromium -------------------------------------------------

describe('a page on another origin opens a session with OpenAIRealtimeWebSocket (Chromium)', () => {
  const openaiDir = dirname(createRequire(import.meta.url).resolve('openai'));
  const pageHTML = join(here, 'realtime-page.html');
  const servers = [];
  let origin; // the page's origin, listed in the tokens' `origins`
  let otherOrigin; // another page origin, not listed
  let userDataDir;
  let context;
  const consoleMessages = [];

  // The page and openai-node's ESM build (/vendor/openai/…), nothing else.
  async function servePage() {
    const server = createServer(async (req, res) => {
      const path = new URL(req.url, 'http://page').pathname;
      try {
        let file;
        if (path === '/') file = pageHTML;
        else if (path.startsWith('/vendor/openai/'))
          file = resolve(openaiDir, `.${path.slice('/vendor/openai'.length)}`);
        if (!file || (file !== pageHTML && !file.startsWith(openaiDir + sep)) || !/^\.(m?js|html)$/.test(extname(file)))
          throw new Error('not found');
        const body = await readFile(file);
        const type = extname(file) === '.html' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    servers.push(server);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${server.address().port}`;
  }

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    [origin, otherOrigin] = await Promise.all([servePage(), servePage()]);
    userDataDir = await mkdtemp(join(tmpdir(), 'relayapi-chromium-rt-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${cert.spki}`],
      timeout: 30_000,
    });
    context.setDefaultTimeout(15_000);
  });

  after(async () => {
    if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  async function openPage(pageOrigin) {
    const page = await context.newPage();
    page.on('console', (m) => consoleMessages.push({ origin: pageOrigin, type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => consoleMessages.push({ origin: pageOrigin, type: 'pageerror', text: e.message }));
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => window.realtimeReady === true);
    return page;
  }

  const pageTurn = (page, args) => page.evaluate((a) => window.realtimeTurn(a), { timeoutMs: WAIT_MS, ...args });

  it('works from the allowed origin, the token in the base URL or in the subprotocol', async (t) => {
    const started = Date.now();
    assert.notEqual(origin, otherOrigin);
    assert.notEqual(
      new URL(origin).origin,
      new URL(relayURL).origin,
      'the page and the relay must be different origins',
    );
    const page = await openPage(origin);
    const cases = [
      // docs/api.md's form: the token in the base URL, the SDK's key subprotocol "unused".
      { name: 'path', key: KEYS.page, base: (token) => ({ baseURL: `${relayURL}/t/${token}/v1`, apiKey: 'unused' }) },
      // The token as the key: the SDK sends it as openai-insecure-api-key.{token}.
      {
        name: 'subprotocol',
        key: KEYS.pageSubprotocol,
        base: (token) => ({ baseURL: `${relayURL}/v1`, apiKey: token }),
      },
    ];
    for (const c of cases) {
      const jti = newJTI(`page-${c.name}`);
      const token = await mint({ apiKey: c.key, jti, origins: origin });
      const prompt = `a realtime turn from a page, token in the ${c.name}`;
      const want = expectedCompletion(prompt);
      const seen = await pageTurn(page, { ...c.base(token), model: MODEL, prompt });
      assert.ok(!seen.timedOut, JSON.stringify(seen));
      assert.deepEqual(seen.errors, [], JSON.stringify(seen));
      // The relay answers the "realtime" subprotocol and never echoes the key entry.
      assert.equal(seen.protocol, 'realtime', c.name);
      assert.equal(seen.types[0], 'session.created', JSON.stringify(seen.types));
      assert.equal(seen.text, want.text, c.name);
      assert.equal(seen.deltas, want.tokens);
      assert.equal(seen.usage.output_tokens, want.tokens, JSON.stringify(seen.usage));
      assert.equal(seen.types.at(-1), 'response.done');
      assert.deepEqual(seen.close, { code: 1000, reason: 'done', wasClean: true });

      // One session reached the provider, with the real key, not the token.
      const reqs = await settledMockRequests(c.key, 1);
      assert.equal(reqs[0].status, 101);
      assert.ok(!JSON.stringify(reqs).includes(token), 'the relay token reached the provider');
      const line = await waitUntil(async () => sessionLogLines(jti)[0], WAIT_MS, 'the access log line');
      assert.equal(line.status, 101, JSON.stringify(line));
      assert.equal(line.token_in, c.name, JSON.stringify(line));
      const usage = await tokenUsage(jti);
      assert.equal(usage.calls, 1);
      assert.equal(usage.completion_tokens, want.tokens);
      assert.equal(usage.prompt_tokens, seen.usage.input_tokens);
    }
    await page.close();
    t.diagnostic(`allowed-origin sessions: ${Date.now() - started} ms`);
  });

  it('is refused at the handshake from a page on an origin the token does not list', async (t) => {
    const started = Date.now();
    const page = await openPage(otherOrigin);
    const jti = newJTI('other-origin');
    const token = await mint({ apiKey: KEYS.otherOrigin, jti, origins: origin });
    const before = await mockStats();
    const logBefore = relayLog().length;

    const seen = await pageTurn(page, {
      baseURL: `${relayURL}/t/${token}/v1`,
      apiKey: 'unused',
      model: MODEL,
      prompt: 'hi',
    });
    assert.ok(!seen.timedOut, JSON.stringify(seen));
    // What a page sees of a refused WebSocket handshake: an error, then 1006.
    assert.equal(seen.protocol, null, 'the socket opened');
    assert.deepEqual(seen.types, []);
    assert.equal(seen.errors.length, 1, JSON.stringify(seen.errors));
    assert.equal(seen.close.code, 1006, JSON.stringify(seen.close));
    assert.equal(seen.close.wasClean, false);
    assert.ok(
      consoleMessages.some((m) => m.origin === otherOrigin && /Unexpected response code: 403/.test(m.text)),
      JSON.stringify(consoleMessages),
    );

    // The relay refused it with origin_not_allowed; nothing reached the provider.
    const lines = relayLog().slice(logBefore);
    assert.deepEqual(
      lines.map((l) => [l.method, l.path, l.status, l.code, l.jti]),
      [['GET', '/t/***/v1/realtime', 403, 'origin_not_allowed', jti]],
    );
    const afterStats = await mockStats();
    assert.equal(afterStats.requests, before.requests, 'a request reached the provider');
    assert.equal(afterStats.by_key[KEYS.otherOrigin], undefined);
    // The refusal came before admission: the relay has no record of the token.
    assert.equal((await admin('GET', `/admin/tokens/${jti}`)).status, 404);
    await page.close();
    t.diagnostic(`refused-origin session: ${Date.now() - started} ms`);
  });
});
