// The playground in a real browser: Debian's Chromium (driven by playwright-core)
// opens examples/web on its own origin; the page streams a chat through the real
// `relayapi serve` in front of the Go mock provider, on another origin, so the
// CORS preflight and the streaming fetch are the browser's own.
//
// Needs: /usr/bin/chromium (apt-get install chromium; CHROMIUM_BIN overrides),
// sdk/js built (npm ci && npm run build), examples/web installed (npm ci), and
// the Go binaries from RELAYAPI_BIN / MOCKPROVIDER_BIN, else `go build` of ../../server,
// and the openssl CLI (for the HTTPS relays' test certificate).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  Processes,
  accessLog as accessLogOf,
  execFileP,
  goBinary as goBinaryIn,
  makeCertificate,
  repo,
} from './harness.mjs';

const exampleDir = join(repo, 'examples/web');
const artifacts = join(repo, 'e2e/artifacts');
// The real provider key: the backend puts it inside each (encrypted) token; the
// page must never carry it in clear.
const REAL_KEY = `sk-e2e-real-upstream-${randomBytes(12).toString('hex')}`;
const ADMIN_KEY = `e2e-admin-${randomBytes(12).toString('hex')}`;
const CHUNK_DELAY_MS = 250;
const WAIT = { timeout: 15_000 };

const procs = new Processes();
let work;
let relayBin;
let raiFile;
let userDataDir;
let context;
let page;
let relayURL;
let mockURL;
let pageOrigin;
const requests = []; // every request the browser made
const sessionBodies = []; // what /api/session handed the page
const consoleErrors = [];

// --- processes -------------------------------------------------------------

const start = (...args) => procs.start(...args);
const goBinary = (name, envVar) => goBinaryIn(work, name, envVar);

// The relay's access log: one JSON line per request, token redacted.
const accessLog = () => accessLogOf(procs.find('relayapi'));

async function mockStats() {
  const res = await fetch(`${mockURL}/_mock/stats`);
  assert.equal(res.status, 200);
  return res.json();
}

// --- the page ----------------------------------------------------------------

const lastAnswer = () => page.locator('.msg.assistant').last();

async function send(scenario, message) {
  await page.selectOption('#scenario', scenario);
  await page.fill('#message', message);
  await page.click('#send');
}

// Waits until the last answer has finished (done or error), then checks which.
async function waitAnswerState(state) {
  await page.waitForFunction(
    () => ['done', 'error'].includes([...document.querySelectorAll('.msg.assistant')].at(-1)?.dataset.state),
    null,
    WAIT,
  );
  assert.equal(await lastAnswer().getAttribute('data-state'), state, await lastAnswer().innerText());
}

// --- setup and teardown ---------------------------------------------------------

before(
  async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    if (!existsSync(join(repo, 'sdk/js/dist/index.js')))
      throw new Error('build the JS SDK first: cd sdk/js && npm ci && npm run build');
    if (!existsSync(join(exampleDir, 'node_modules/openai')))
      throw new Error('install the example first: cd examples/web && npm ci');
    work = await mkdtemp(join(tmpdir(), 'relayapi-browser-'));
    let mockBin;
    [relayBin, mockBin] = await Promise.all([
      goBinary('relayapi', 'RELAYAPI_BIN'),
      goBinary('mockprovider', 'MOCKPROVIDER_BIN'),
    ]);

    const mock = await start(
      'mockprovider',
      mockBin,
      ['--listen', '127.0.0.1:0', '--chunk-delay', `${CHUNK_DELAY_MS}ms`],
      {
        ready: /listening on (\S+)/,
      },
    );
    mockURL = `http://${mock[1]}`;

    raiFile = join(work, 'app.rai');
    await execFileP(relayBin, ['keygen', '--method', 'aes', '--out', raiFile]);
    const config = join(work, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        providers: { mock: { base_url: mockURL, auth: 'bearer' } },
        admin: { key: ADMIN_KEY },
        store: { driver: 'sqlite', url: '' },
        token: { leeway: '0s' }, // so the expired scenario waits ~2 s, not 31 s
      }),
    );
    const relay = await start(
      'relayapi',
      relayBin,
      ['serve', '--config', config, '--rai', raiFile, '--data', join(work, 'data'), '--listen', '127.0.0.1:0'],
      { ready: /"msg":"relay listening","addr":"([^"]+)"/ },
    );
    relayURL = `http://${relay[1]}`;

    const web = await start('example backend', process.execPath, [join(exampleDir, 'server.mjs')], {
      env: {
        RELAYAPI_RAI: raiFile,
        RELAYAPI_URL: relayURL,
        RELAYAPI_PROVIDER: 'mock',
        OPENAI_API_KEY: REAL_KEY,
        RELAYAPI_LEEWAY: '0',
        HOST: '127.0.0.1',
        PORT: '0',
      },
      ready: /listening on (http:\S+)/,
    });
    pageOrigin = web[1];
    assert.notEqual(
      new URL(pageOrigin).origin,
      new URL(relayURL).origin,
      'the page and the relay must be different origins',
    );

    userDataDir = await mkdtemp(join(tmpdir(), 'relayapi-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 900, height: 1000 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(15_000);
    context.on('request', (r) => requests.push(r));
    context.on('response', async (r) => {
      if (new URL(r.url()).pathname === '/api/session') sessionBodies.push(await r.text().catch(() => ''));
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => document.querySelector('#scenario-hint')?.textContent !== '');
  },
  { timeout: 360_000 },
);

after(async () => {
  if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  await procs.stopAll();
  for (const dir of [userDataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

// --- the tests --------------------------------------------------------------------

describe('playground page in Chromium, cross-origin to the relay', () => {
  it('renders the streamed answer chunk by chunk, before the provider has finished', async (t) => {
    const message = 'please stream these words one at a time for the browser';
    const expected = `Hello from mock: ${message}`;
    const chunks = expected.split(' ').length;
    const before = await mockStats();
    const started = Date.now();
    await send('ok', message);

    // The first chunk is in the DOM...
    await page.waitForFunction(
      () => {
        const m = [...document.querySelectorAll('.msg.assistant')].at(-1);
        return m?.querySelector('.text')?.textContent.startsWith('Hello') ?? false;
      },
      null,
      { ...WAIT, polling: 20 },
    );
    const firstSeen = Date.now() - started;
    // ...while the mock is still streaming: the last chunk has not been sent.
    const during = await mockStats();
    const partial = await lastAnswer().locator('.text').textContent();
    assert.equal(during.streams_completed, before.streams_completed, 'the mock finished before the first chunk showed');
    assert.ok(during.in_flight >= 1, `mock in_flight ${during.in_flight}`);
    assert.ok(partial.length < expected.length, `already complete at first sight: ${partial}`);

    await waitAnswerState('done');
    const total = Date.now() - started;
    assert.equal(await lastAnswer().locator('.text').textContent(), expected);
    assert.equal(await lastAnswer().getAttribute('data-chunks'), String(chunks));
    const afterStats = await mockStats();
    assert.equal(afterStats.streams_completed, before.streams_completed + 1);
    assert.ok(total - firstSeen >= 4 * CHUNK_DELAY_MS, `first chunk at ${firstSeen} ms, done at ${total} ms`);
    t.diagnostic(`first chunk visible after ${firstSeen} ms, stream done after ${total} ms (${chunks} chunks)`);

    // A real cross-origin call: the browser sent a preflight, then the POST with
    // its Origin, and the relay's CORS answer named the page's origin.
    const post = requests.find((r) => r.method() === 'POST' && r.url().startsWith(`${relayURL}/t/`));
    assert.ok(post, 'no POST to the relay recorded');
    assert.equal((await post.allHeaders()).origin, pageOrigin);
    const res = await post.response();
    assert.equal(res.headers()['access-control-allow-origin'], pageOrigin);
    assert.match(res.headers()['content-type'], /^text\/event-stream/);
    const log = accessLog();
    assert.ok(
      log.some((l) => l.method === 'OPTIONS' && l.status === 204 && l.path === '/t/***/v1/chat/completions'),
      'the relay saw no CORS preflight',
    );
  });

  it('shows model_not_allowed for a model outside the token', async () => {
    const before = await mockStats();
    await send('model', 'may I use another model?');
    await waitAnswerState('error');
    const text = await lastAnswer().innerText();
    assert.match(text, /may not use that model/);
    assert.match(text, /HTTP 403 model_not_allowed/);
    assert.equal((await mockStats()).requests, before.requests, 'the relay forwarded a refused request');
  });

  it('shows the relay’s call_limit_exceeded for an exhausted token', async () => {
    const before = await mockStats();
    await send('exhausted', 'one more message please');
    await waitAnswerState('error');
    const text = await lastAnswer().innerText();
    assert.match(text, /used all of its messages/);
    assert.match(text, /HTTP 429 call_limit_exceeded: The token has used all of its calls\./);
    // Only the backend's own call (which used the token up) reached the provider.
    const after = await mockStats();
    assert.equal(after.requests, before.requests + 1);
    assert.equal(after.by_path['/v1/models'], (before.by_path['/v1/models'] ?? 0) + 1);
  });

  it('shows origin_not_allowed for a token whose origins exclude the page', async () => {
    const before = await mockStats();
    const logBefore = accessLog().length;
    await send('wrong-origin', 'can this page use a token for another site?');
    await waitAnswerState('error');
    const text = await lastAnswer().innerText();
    // The refusal is readable by the page (the relay answers it with CORS
    // headers), so its developer sees why instead of a bare network error.
    assert.match(text, /not allowed to use this session/);
    assert.match(text, /HTTP 403 origin_not_allowed/);
    assert.equal(await lastAnswer().locator('.text').getAttribute('data-code'), 'origin_not_allowed');
    // The preflight passed, the POST was refused by the relay, the provider saw nothing.
    const newLines = accessLog().slice(logBefore);
    assert.deepEqual(
      newLines.map((l) => `${l.method} ${l.status}`),
      ['OPTIONS 204', 'POST 403'],
      JSON.stringify(newLines),
    );
    assert.equal((await mockStats()).requests, before.requests, 'the relay forwarded a request');
  });

  it('shows token_expired for an expired token', async () => {
    const before = await mockStats();
    await send('expired', 'is my session still valid?');
    await waitAnswerState('error');
    const text = await lastAnswer().innerText();
    assert.match(text, /session has expired/);
    assert.match(text, /HTTP 401 token_expired/);
    assert.equal((await mockStats()).requests, before.requests);
  });

  it('never sends the real API key from the page', async () => {
    const relayCalls = requests.filter((r) => r.url().startsWith(`${relayURL}/`));
    assert.ok(
      requests.length > 10 && relayCalls.length >= 5,
      `recorded ${requests.length} requests, ${relayCalls.length} to the relay`,
    );
    for (const r of requests) {
      const headers = await r.allHeaders();
      const seen = [r.url(), JSON.stringify(headers), r.postData() ?? ''].join('\n');
      assert.ok(!seen.includes(REAL_KEY), `the real key is in ${r.method()} ${r.url()}`);
    }
    assert.equal(sessionBodies.length, 5);
    for (const body of sessionBodies) assert.ok(!body.includes(REAL_KEY), 'the backend handed the page the real key');
    // ...yet the provider got it, from the relay, out of the encrypted token.
    const stats = await mockStats();
    assert.ok(stats.by_key[REAL_KEY] >= 1, `the mock never saw the real key: ${JSON.stringify(stats.by_key)}`);
  });

  it('saves a screenshot of the finished chat', async (t) => {
    await mkdir(artifacts, { recursive: true });
    const file = join(artifacts, 'browser-chat.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(existsSync(file));
    t.diagnostic(`screenshot: ${file}`);
  });

  // After the chat's tests (they count the page's sessions): the realtime mode
  // opens a plain ws:// WebSocket to the relay with the page's Origin.
  it('realtime tab: streams a WebSocket answer, shows its usage, hangs up with 1000', async () => {
    const message = 'hi socket';
    const expected = `Hello from mock: ${message}`;
    await page.check('#mode-realtime');
    assert.equal(await page.isVisible('#chat'), false, 'the chat form is still shown');
    await page.fill('#rt-message', message);
    await page.click('#rt-send');
    await page.waitForFunction(
      (want) => document.querySelector('#rt-log .rt-answer[data-state="done"] .text')?.textContent === want,
      expected,
      WAIT,
    );
    assert.equal(await page.getAttribute('#rt-status', 'data-state'), 'open');
    assert.match(await page.textContent('#rt-usage'), new RegExp(`, ${expected.split(' ').length} output tokens,`));
    await page.click('#rt-hangup');
    await page.waitForFunction(() => document.querySelector('#rt-status').dataset.state === 'closed', null, WAIT);
    assert.match(await page.textContent('#rt-status'), /^Closed: code 1000\b/);
    assert.equal(await page.locator('#rt-log .rt-error').count(), 0, await page.innerText('#rt-log'));
    const log = accessLog();
    assert.ok(
      log.some((l) => l.method === 'GET' && l.path === '/t/***/v1/realtime'),
      `the relay logged no realtime session: ${JSON.stringify(log.slice(-3))}`,
    );
  });
});

// --- HTTP/2: a dozen streams from one page to one HTTPS relay ----------------------

// Twice Chromium's six HTTP/1.1 connections per origin.
const STREAMS = 12;
// Mock controls, passed through by the relays' allow_request_headers: every stream
// waits 500 ms for its headers (a model's time to first token), then sends 20
// content chunks 150 ms apart, so a stream lasts ~3.5 s. Over HTTP/1.1 a seventh
// stream can only start once one has ended, and then it still waits those 500 ms:
// the control's stall is not a race of milliseconds.
const SLOW = { 'x-mock-delay-ms': '500', 'x-mock-chunks': '20', 'x-mock-chunk-delay-ms': '150' };

// Another relay (same .rai, same mock provider) serving HTTPS from the test certificate.
async function startHTTPSRelay(name, cert, http2) {
  const dir = join(work, name);
  await mkdir(dir);
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      providers: { mock: { base_url: mockURL, auth: 'bearer', allow_request_headers: ['x-mock-*'] } },
      store: { driver: 'sqlite', url: '' },
      tls: { cert_file: cert.certFile, key_file: cert.keyFile },
      http2: { enabled: http2 },
    }),
  );
  const relay = await start(
    `relayapi ${name}`,
    relayBin,
    ['serve', '--config', config, '--rai', raiFile, '--data', join(dir, 'data'), '--listen', '127.0.0.1:0'],
    { ready: /"msg":"relay listening","addr":"([^"]+)","scheme":"https"/ },
  );
  return `https://${relay[1]}`;
}

// The content chunks of a chat completion stream, and whether it ended with [DONE].
function parseStream(text) {
  const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  const contents = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '');
  return { contentChunks: contents.filter(Boolean).length, done: data.at(-1) === '[DONE]' };
}

describe('a dozen concurrent streams from one page to one HTTPS relay', () => {
  let h2Relay;
  let h1Relay;
  let tlsDir;
  let tlsContext;
  let tlsPage;
  // Chromium's view of each response (DevTools protocol): "<url> <type>" → its
  // protocol (ALPN) and connection. Resource timing's nextHopProtocol cannot
  // tell: the relay sends no Timing-Allow-Origin, so it is "" cross-origin.
  const responses = new Map();

  before(async () => {
    const cert = await makeCertificate(await mkdtemp(join(work, 'tls-')));
    [h2Relay, h1Relay] = await Promise.all([
      startHTTPSRelay('h2', cert, true),
      startHTTPSRelay('http1', cert, false),
    ]);
    // A browser of its own: it trusts the test certificate (by its key, nothing
    // else); the playground's browser does not.
    tlsDir = await mkdtemp(join(tmpdir(), 'relayapi-chromium-tls-'));
    tlsContext = await chromium.launchPersistentContext(tlsDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${cert.spki}`],
      timeout: 30_000,
    });
    tlsContext.setDefaultTimeout(15_000);
    tlsPage = tlsContext.pages()[0] ?? (await tlsContext.newPage());
    const cdp = await tlsContext.newCDPSession(tlsPage);
    cdp.on('Network.responseReceived', ({ type, response: r }) =>
      responses.set(`${r.url} ${type}`, { protocol: r.protocol, connection: r.connectionId }),
    );
    await cdp.send('Network.enable');
    await tlsPage.goto(`${pageOrigin}/`);
  });

  after(async () => {
    if (tlsContext) await Promise.race([tlsContext.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
  });

  // Mints STREAMS tokens the playground's way (the example backend's /api/session),
  // then opens that many streaming chat completions at once from the page to
  // relay and reads them to the end. first and end are ms since the fetches began.
  async function concurrentStreams(relay) {
    const sessions = await tlsPage.evaluate(
      (n) => Promise.all(Array.from({ length: n }, () => fetch('/api/session?scenario=ok').then((r) => r.json()))),
      STREAMS,
    );
    // The backend's base URLs name the plain-HTTP relay; every relay holding the
    // .rai accepts its tokens.
    const targets = sessions.map((s) => ({
      url: `${relay}${new URL(s.baseURL).pathname}/chat/completions`,
      model: s.model,
    }));
    assert.equal(new Set(targets.map((s) => s.url)).size, STREAMS, 'the tokens are not distinct');
    const streams = await tlsPage.evaluate(
      ({ targets, headers }) => {
        const t0 = performance.now();
        return Promise.all(
          targets.map(async ({ url, model }, i) => {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: `stream ${i}` }] }),
            });
            const reader = res.body.getReader();
            const decoder = new TextDecoder();
            let first;
            let text = '';
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              first ??= performance.now() - t0;
              text += decoder.decode(value, { stream: true });
            }
            return { url, status: res.status, first, end: performance.now() - t0, text };
          }),
        );
      },
      { targets, headers: SLOW },
    );
    return streams.map((s) => ({ ...s, ...parseStream(s.text), ...responses.get(`${s.url} Fetch`) }));
  }

  function checkComplete(streams, protocol) {
    for (const s of streams) {
      assert.equal(s.status, 200, s.text);
      assert.equal(s.protocol, protocol, `Chromium spoke ${s.protocol} to the relay`);
      assert.equal(s.contentChunks, Number(SLOW['x-mock-chunks']), s.text);
      assert.ok(s.done, `no [DONE]: ${s.text}`);
    }
  }

  // How the streams overlapped, for the diagnostics and the assertions.
  function summary(streams) {
    const firsts = streams.map((s) => s.first);
    const firstEnd = Math.min(...streams.map((s) => s.end));
    return {
      startedBeforeFirstEnd: firsts.filter((f) => f < firstEnd).length,
      text:
        `first chunks ${Math.round(Math.min(...firsts))}–${Math.round(Math.max(...firsts))} ms, ` +
        `first stream ended at ${Math.round(firstEnd)} ms, last at ${Math.round(Math.max(...streams.map((s) => s.end)))} ms, ` +
        `${new Set(streams.map((s) => s.connection)).size} connection(s)`,
    };
  }

  it('over HTTP/2 all twelve get their first chunk before any stream ends', async (t) => {
    const streams = await concurrentStreams(h2Relay);
    const { startedBeforeFirstEnd, text } = summary(streams);
    t.diagnostic(`h2: ${text}`);
    checkComplete(streams, 'h2');
    assert.equal(startedBeforeFirstEnd, STREAMS, `only ${startedBeforeFirstEnd} streams made progress at once: ${text}`);
  });

  // The control: the same page and streams against a relay with http2.enabled
  // false stall at Chromium's six connections, so the assertion above can fail.
  it('control: over HTTP/1.1 (http2.enabled false) at most six do', async (t) => {
    const streams = await concurrentStreams(h1Relay);
    const { startedBeforeFirstEnd, text } = summary(streams);
    t.diagnostic(`http/1.1: ${text}`);
    checkComplete(streams, 'http/1.1');
    assert.ok(startedBeforeFirstEnd <= 6, `${startedBeforeFirstEnd} streams made progress at once: ${text}`);
  });
});
