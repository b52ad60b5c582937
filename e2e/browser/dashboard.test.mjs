// The operator dashboard (GET /admin/ on the relay, docs/api.md "Dashboard") in
// Debian's Chromium, driven by playwright-core, against the real `relayapi serve`
// in front of the Go mock provider:
//
//   - a wrong admin key is refused with "wrong admin key" and no data on the page;
//   - signed in, the overview's numbers (requests, errors, tokens, active streams)
//     move between polls while mock traffic runs through the relay;
//   - tokens and subjects: the top lists, a search by sub, a search by jti opening
//     the token's page (calls used / max, its requests), Revoke through the
//     confirmation dialog — after which the relay refuses that token (401
//     token_revoked);
//   - the request log with filters and Next / Previous page; the providers'
//     relay-held keys, shown by their last 4 characters only;
//   - keyboard only: sign in with Enter, reach a view with Tab;
//   - every request the page makes goes to the relay's own origin, the key only in
//     the Authorization header (never a URL, never a cookie), the answers carry the
//     CSP, and the page raises no CSP violation (a deliberate one is caught, to
//     show the listener works).
//
// Screenshots of each screen go to e2e/artifacts/dashboard-*.png. With
// UPDATE_DOCS_IMAGES=1 the overview's (1280×800) is also copied to
// docs/img/dashboard-overview.png, the READMEs' picture (a test run must not
// change the committed tree).
//
// Needs: /usr/bin/chromium (CHROMIUM_BIN overrides) and the Go binaries from
// RELAYAPI_BIN / MOCKPROVIDER_BIN, else `go build` of ../../server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, Processes, execFileP, goBinary as goBinaryIn, repo } from './harness.mjs';

const artifacts = join(repo, 'e2e/artifacts');
const docsImage = join(repo, 'docs/img/dashboard-overview.png');
const ADMIN_KEY = `e2e-admin-${randomBytes(12).toString('hex')}`;
const REAL_KEY = `sk-e2e-dash-${randomBytes(12).toString('hex')}`;
// Relay-held keys of provider "pooled" (api_keys from the environment).
const POOL_KEYS = [0, 1].map(() => `sk-e2e-pool-${randomBytes(12).toString('hex')}`);
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const MODEL = 'gpt-4o-mini';
const WAIT = { timeout: 30_000 };
const VIEWPORT = { width: 1280, height: 800 };

const procs = new Processes();
let work;
let relayBin;
let raiFile;
let relayURL;
let browser;
let context;
let page;
const requests = []; // every request the browser made
const responses = []; // [url, headers] of every answer
const cspViolations = [];
// The page's securitypolicyviolation events (an init script forwards them).
let onViolation;
const violationReported = new Promise((r) => (onViolation = r));
function reportViolation(v) {
  cspViolations.push(v);
  onViolation(v);
}
const tokens = {}; // name → { token, jti, sub }
let background = null; // the traffic loop: { stop(), count() }

// --- the relay -------------------------------------------------------------------------

async function mint(name, { sub, provider = 'mock', models = [MODEL], ...claims } = {}) {
  const jti = `dash-${name}-${randomBytes(5).toString('hex')}`;
  const args = ['token', '--rai', raiFile, '--provider', provider, '--jti', jti, '--expires-in', '30m'];
  if (provider === 'mock') args.push('--api-key', REAL_KEY);
  if (sub) args.push('--sub', sub);
  if (models.length) args.push('--models', models.join(','));
  for (const [k, v] of Object.entries(claims))
    args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
  const { stdout } = await execFileP(relayBin, args);
  tokens[name] = { token: stdout.trim(), jti, sub };
  return tokens[name];
}

// One chat completion through the relay (path token), as an app would send it.
async function chat(name, { model = MODEL, stream = false, headers = {}, signal } = {}) {
  const res = await fetch(`${relayURL}/t/${tokens[name].token}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: `hello dashboard from ${name}` }] }),
    signal,
  });
  if (stream && signal) return { status: res.status, res };
  const text = await res.text();
  let code;
  try {
    code = JSON.parse(text).error?.code;
  } catch {
    // a stream, or not JSON
  }
  return { status: res.status, code };
}

// Mock traffic in the background, a call every ~200 ms across three tokens: some
// streamed, some refused by the relay (model_not_allowed), some failed upstream.
function startBackground() {
  let stopped = false;
  let sent = 0;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const name = ['bg1', 'bg2', 'bg3'][i % 3];
      const opts = {};
      if (i % 7 === 3)
        opts.model = 'gpt-4o'; // not allowed: 403 model_not_allowed
      else if (i % 11 === 5)
        opts.headers = { 'x-mock-status': '503' }; // the provider fails
      else if (i % 3 === 1) Object.assign(opts, { stream: true, headers: { 'x-mock-chunk-delay-ms': '15' } });
      else opts.headers = { 'x-mock-delay-ms': String(10 + ((i * 37) % 90)) };
      await chat(name, opts).catch(() => {});
      sent++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    count: () => sent,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

// --- the page ----------------------------------------------------------------------------

const byTestId = (id) => page.locator(`[data-testid="${id}"]`);

async function tile(id) {
  const v = await byTestId(id).getAttribute('data-value');
  return v === null || v === '' ? NaN : Number(v);
}

// Waits until tile id holds a number ≥ min (the page polls every 5 s).
async function waitTileAtLeast(id, min) {
  await page.waitForFunction(
    ([tid, m]) => Number(document.querySelector(`[data-testid="${tid}"]`)?.dataset.value) >= m,
    [id, min],
    WAIT,
  );
}

async function polls() {
  return Number((await byTestId('overview-updated').getAttribute('data-polls')) ?? 0);
}

async function shot(name, { fullPage = true } = {}) {
  const file = join(artifacts, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

async function signIn(key) {
  await byTestId('admin-key').fill(key);
  await byTestId('sign-in').click();
}

async function go(testid) {
  await byTestId(testid).click();
}

// --- setup and teardown ---------------------------------------------------------------------

before(
  async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    work = await mkdtemp(join(tmpdir(), 'relayapi-dashboard-'));
    await mkdir(artifacts, { recursive: true });
    let mockBin;
    [relayBin, mockBin] = await Promise.all([
      goBinaryIn(work, 'relayapi', 'RELAYAPI_BIN'),
      goBinaryIn(work, 'mockprovider', 'MOCKPROVIDER_BIN'),
    ]);
    const mock = await procs.start('mockprovider', mockBin, ['--listen', '127.0.0.1:0'], {
      ready: /listening on (\S+)/,
    });
    const mockURL = `http://${mock[1]}`;

    raiFile = join(work, 'app.rai');
    await execFileP(relayBin, ['keygen', '--method', 'aes', '--out', raiFile]);
    const config = join(work, 'config.json');
    const provider = { base_url: mockURL, auth: 'bearer', allow_request_headers: ['x-mock-*'] };
    await writeFile(
      config,
      JSON.stringify({
        providers: {
          mock: provider,
          pooled: { ...provider, api_keys: [{ env: 'E2E_POOL_KEY_1' }, { env: 'E2E_POOL_KEY_2' }] },
        },
        admin: { key: ADMIN_KEY },
        store: { driver: 'sqlite', url: '' },
        upstream: { max_retries: 0 },
      }),
    );
    const relay = await procs.start(
      'relayapi',
      relayBin,
      ['serve', '--config', config, '--rai', raiFile, '--data', join(work, 'data'), '--listen', '127.0.0.1:0'],
      {
        ready: /"msg":"relay listening","addr":"([^"]+)"/,
        env: { E2E_POOL_KEY_1: POOL_KEYS[0], E2E_POOL_KEY_2: POOL_KEYS[1] },
      },
    );
    relayURL = `http://${relay[1]}`;

    await Promise.all([
      mint('alice', { sub: 'alice', maxCalls: 100 }),
      mint('bob', { sub: 'bob' }),
      mint('carol', { sub: 'carol', maxCalls: 2 }),
      mint('pooled', { sub: 'dave', provider: 'pooled' }),
      mint('bulk', { sub: 'erin' }),
      mint('bg1', { sub: 'team-red' }),
      mint('bg2', { sub: 'team-blue' }),
      mint('bg3', { sub: 'team-green', tokenBudget: 1_000_000 }),
    ]);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(WAIT.timeout);
    await context.exposeFunction('__reportCSP', reportViolation);
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__reportCSP(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    context.on('request', (r) => requests.push(r));
    context.on('response', (r) => responses.push([r.url(), r.headers()]));
    page = await context.newPage();
    page.on('console', (m) => {
      if (/content security policy/i.test(m.text())) cspViolations.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  },
  { timeout: 360_000 },
);

after(async () => {
  if (background) await background.stop();
  if (browser) await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  await procs.stopAll();
  if (work) await rm(work, { recursive: true, force: true });
});

// --- the tests ----------------------------------------------------------------------------------

describe('operator dashboard in Chromium, on the relay at /admin/', () => {
  it('serves the page with its security headers, and redirects /admin to /admin/', async () => {
    const res = await page.goto(`${relayURL}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/');
    assert.equal(res.status(), 200);
    const h = res.headers();
    assert.equal(h['content-security-policy'], CSP);
    assert.equal(h['x-frame-options'], 'DENY');
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['referrer-policy'], 'no-referrer');
    assert.equal(h['cache-control'], 'no-store');
    await byTestId('admin-key').waitFor();
    assert.equal(await byTestId('admin-key').getAttribute('type'), 'password');
  });

  it('refuses a wrong key with "wrong admin key" and shows no data', async (t) => {
    t.diagnostic(`screenshot: ${await shot('signin', { fullPage: false })}`);
    await signIn(`${ADMIN_KEY}-wrong`);
    await byTestId('signin-error').waitFor({ state: 'visible' });
    assert.match(await byTestId('signin-error').innerText(), /wrong admin key/i);
    assert.equal(await page.locator('#topbar').isVisible(), false);
    assert.equal(await byTestId('view').innerText(), '');
    assert.equal(await page.locator('[data-testid="total-requests"]').count(), 0);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('relayapi.adminKey')), null);
    // The wrong key was tried in a header only.
    const tried = requests.filter((r) => new URL(r.url()).pathname.startsWith('/admin/tokens'));
    assert.ok(tried.length >= 1);
    assert.equal((await tried.at(-1).allHeaders()).authorization, `Bearer ${ADMIN_KEY}-wrong`);
    t.diagnostic(`screenshot: ${await shot('signin-wrong-key', { fullPage: false })}`);
  });

  it('signs in with the keyboard only: the key and Enter', async () => {
    // The failed attempt left the field focused with its text selected.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'admin-key');
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await byTestId('total-requests').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="overview-updated"]')?.dataset.polls >= 1);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('relayapi.adminKey')), ADMIN_KEY);
    assert.equal(new URL(page.url()).hash, '#/overview');
    assert.equal(await byTestId('nav-overview').getAttribute('aria-current'), 'page');
    assert.deepEqual(await context.cookies(), []);
  });

  it('shows live numbers moving between polls while traffic runs', async (t) => {
    await page.locator('label:has([data-testid="range-15m"])').click();
    await page.waitForFunction(() => location.hash === '#/overview?range=15m');
    await page.waitForFunction(() => document.querySelector('[data-testid="overview-updated"]')?.dataset.polls >= 1);
    const before = await tile('total-requests');
    const errorsBefore = await tile('total-errors');
    const pollsBefore = await polls();
    assert.ok(before >= 0, `total requests: ${before}`);

    // Round one: ok calls, a refused model, a call limit reached, the pool's keys.
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await chat('alice'));
    results.push(await chat('alice', { stream: true }));
    results.push(await chat('bob'), await chat('bob'), await chat('bob', { model: 'gpt-4o' }));
    results.push(await chat('carol'), await chat('carol'), await chat('carol'));
    results.push(await chat('pooled'), await chat('pooled'));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200, 200, 200, 403, 200, 200, 429, 200, 200],
      JSON.stringify(results),
    );
    assert.equal(results[7].code, 'model_not_allowed');
    assert.equal(results[10].code, 'call_limit_exceeded');
    await waitTileAtLeast('total-requests', before + results.length);
    await waitTileAtLeast('total-errors', errorsBefore + 2);
    const afterOne = await tile('total-requests');
    const pollsOne = await polls();
    assert.ok(pollsOne > pollsBefore, 'the numbers came with a later poll');
    assert.ok((await tile('total-completion-tokens')) > 0);

    // Round two, in the background from now on: the total moves again, by itself.
    background = startBackground();
    await waitTileAtLeast('total-requests', afterOne + 5);
    assert.ok((await polls()) > pollsOne);

    // A stream held open shows in active streams, and leaves it when it ends.
    const ctrl = new AbortController();
    const slow = await chat('alice', {
      stream: true,
      signal: ctrl.signal,
      headers: { 'x-mock-chunks': '200', 'x-mock-chunk-delay-ms': '200' },
    });
    assert.equal(slow.status, 200);
    const reading = slow.res.body
      .getReader()
      .read()
      .catch(() => {});
    await waitTileAtLeast('active-streams', 1);
    ctrl.abort();
    await reading;
    await page.waitForFunction(
      () => document.querySelector('[data-testid="active-streams"]')?.dataset.value === '0',
      null,
      WAIT,
    );

    // The plots are drawn: one svg per chart, with lines or bars in them.
    for (const chart of ['requests', 'errors', 'tokens', 'latency', 'ttfb', 'streams']) {
      const svg = byTestId(`chart-${chart}`).locator('svg');
      assert.equal(await svg.count(), 1, chart);
    }
    assert.ok((await byTestId('chart-requests').locator('path.line').count()) >= 1);
    assert.ok((await byTestId('chart-tokens').locator('rect.bar').count()) >= 1);
    assert.ok((await byTestId('chart-errors').locator('rect.bar').count()) >= 1);
    assert.match(await byTestId('chart-errors').locator('.legend').innerText(), /model_not_allowed/);
    assert.ok((await byTestId('chart-latency').locator('path.line, circle.dot').count()) >= 1);
    t.diagnostic(`requests in range: ${await tile('total-requests')}, background calls: ${background.count()}`);
  });

  it('lists top tokens and subjects, and a subject’s tokens', async (t) => {
    await go('nav-tokens');
    await byTestId('top-tokens-by-calls-row').first().waitFor();
    const tops = await byTestId('top-subjects-by-calls').innerText();
    for (const sub of ['alice', 'bob', 'team-red']) assert.match(tops, new RegExp(sub));
    assert.ok((await byTestId('top-tokens-by-tokens-row').count()) >= 1);
    t.diagnostic(`screenshot: ${await shot('tokens')}`);

    await byTestId('search-sub').fill('bob');
    await byTestId('search-sub').press('Enter');
    await byTestId('subject-token-row').first().waitFor();
    assert.equal(await byTestId('subject-token-row').count(), 1);
    assert.match(await byTestId('subject-tokens').innerText(), new RegExp(tokens.bob.jti));
  });

  it('opens a token by jti, revokes it through the dialog, and the relay refuses it', async (t) => {
    const { jti } = tokens.alice;
    await byTestId('search-jti').fill(jti);
    await byTestId('search-jti-submit').click();
    await page.waitForFunction((j) => location.hash === `#/tokens/${encodeURIComponent(j)}`, jti);
    await byTestId('token-usage').waitFor();
    assert.equal(await byTestId('token-jti').innerText(), jti);
    assert.match(await byTestId('token-calls-text').innerText(), /^\d+ of 100 calls used/);
    assert.equal(await byTestId('token-calls').locator('progress').getAttribute('max'), '100');
    assert.equal(await byTestId('token-state').innerText(), 'active');
    await byTestId('token-requests').locator('[data-testid="request-row"]').first().waitFor();
    t.diagnostic(`screenshot: ${await shot('token')}`);

    // Still usable.
    assert.equal((await chat('alice')).status, 200);

    await byTestId('revoke').click();
    const dialog = byTestId('revoke-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await dialog.evaluate((d) => d.open && d.matches(':modal')), true);
    assert.match(await dialog.innerText(), new RegExp(jti));
    // Cancel first: nothing happens.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'revoke-cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await chat('alice')).status, 200);

    await byTestId('revoke').click();
    await dialog.waitFor({ state: 'visible' });
    t.diagnostic(`screenshot: ${await shot('revoke-dialog', { fullPage: false })}`);
    await byTestId('revoke-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelector('[data-testid="token-state"]')?.textContent === 'revoked');
    assert.equal(await byTestId('revoke').isVisible(), false);
    const post = requests.filter((r) => r.method() === 'POST' && r.url().endsWith(`/admin/tokens/${jti}/revoke`));
    assert.equal(post.length, 1);

    const refused = await chat('alice');
    assert.equal(refused.status, 401);
    assert.equal(refused.code, 'token_revoked');
  });

  it('filters the request log and pages through it', async (t) => {
    // Enough rows for more than one page of 50.
    const bulk = await Promise.all(Array.from({ length: 40 }, () => chat('bulk')));
    assert.ok(bulk.every((r) => r.status === 200));
    await go('nav-requests');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="request-row"]').length === 50);
    const first = await byTestId('request-row').first().innerText();
    const next = byTestId('requests-next');
    assert.equal(await next.isEnabled(), true);
    await next.click();
    await byTestId('requests-page').filter({ hasText: 'Page 2' }).waitFor();
    assert.ok((await byTestId('request-row').count()) >= 1);
    assert.notEqual(await byTestId('request-row').first().innerText(), first);
    await byTestId('requests-prev').click();
    await byTestId('requests-page').filter({ hasText: 'Page 1' }).waitFor();

    // A status class and a code.
    await byTestId('filter-status').fill('4xx');
    await byTestId('filter-apply').click();
    await page.waitForFunction(() => location.hash.includes('status=4xx'));
    await byTestId('request-row').first().waitFor();
    const statuses = await byTestId('request-row').locator('td:nth-child(2)').allInnerTexts();
    assert.ok(statuses.length >= 1 && statuses.every((s) => /^4\d\d$/.test(s.trim())), statuses.join(','));
    t.diagnostic(`screenshot: ${await shot('requests')}`);

    await byTestId('filter-status').fill('');
    await byTestId('filter-code').fill('model_not_allowed');
    await byTestId('filter-sub').fill('bob');
    await byTestId('filter-apply').click();
    await page.waitForFunction(
      () => location.hash.includes('code=model_not_allowed') && location.hash.includes('sub=bob'),
    );
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="request-row"]').length === 1);
    assert.match(await byTestId('request-row').innerText(), /model_not_allowed/);

    // A bad status is the browser's to refuse (pattern), not sent.
    await byTestId('filter-clear').click();
    await page.waitForFunction(() => location.hash === '#/requests');
  });

  it('shows the providers and their relay-held keys by the last 4 characters only', async (t) => {
    // The provider refuses one of the pool's keys (429, Retry-After 120): the relay benches it.
    const limited = await chat('pooled', { headers: { 'x-mock-status': '429', 'x-mock-retry-after': '120' } });
    assert.equal(limited.status, 429);
    // Reached with the keyboard: Tab to the link, Enter.
    await page.evaluate(() => document.querySelector('[data-testid="nav-overview"]').focus());
    for (let i = 0; i < 10; i++) {
      if ((await page.evaluate(() => document.activeElement?.dataset.testid)) === 'nav-providers') break;
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/providers');
    const pooled = page.locator('[data-testid="provider"][data-provider="pooled"]');
    await pooled.waitFor();
    assert.equal(await pooled.locator('[data-testid="provider-key"]').count(), 2);
    const last4 = await pooled.locator('[data-testid="key-last4"]').allInnerTexts();
    assert.deepEqual(last4.sort(), POOL_KEYS.map((k) => `…${k.slice(-4)}`).sort());
    const states = await pooled.locator('[data-testid="provider-key"] td:nth-child(3)').allInnerTexts();
    assert.equal(states.filter((s) => /^benched until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(s)).length, 1, states.join(' | '));
    assert.equal(states.filter((s) => s === 'in use').length, 1, states.join(' | '));
    const errors = await pooled.locator('[data-testid="provider-key"] td:nth-child(4)').allInnerTexts();
    assert.ok(errors.some((e) => /429/.test(e)), errors.join(' | '));
    // The token-carried provider is listed among those without relay-held keys.
    assert.equal(await page.locator('[data-testid="provider"][data-provider="mock"]').count(), 0);
    assert.equal(await byTestId('providers-keyless').locator('[data-provider="mock"]').count(), 1);
    const html = await page.content();
    for (const k of [...POOL_KEYS, REAL_KEY]) assert.ok(!html.includes(k.slice(0, -4)), 'a key reached the page');
    t.diagnostic(`screenshot: ${await shot('providers')}`);
  });

  it('saves the overview, at 1280×800 and on a phone (390×844)', async (t) => {
    await go('nav-overview');
    await page.locator('label:has([data-testid="range-15m"])').click();
    await page.waitForFunction(() => location.hash === '#/overview?range=15m');
    // The traffic has spanned at least two of the 30-second buckets.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="chart-requests"]')?.dataset.buckets >= 2,
      null,
      { timeout: 60_000 },
    );
    const file = await shot('overview', { fullPage: false });
    if (process.env.UPDATE_DOCS_IMAGES === '1') {
      await mkdir(join(repo, 'docs/img'), { recursive: true });
      await copyFile(file, docsImage);
    }
    t.diagnostic(`screenshot: ${file}`);
    await page.setViewportSize({ width: 390, height: 844 });
    // One column: the charts sit under each other.
    await page.waitForFunction(() => {
      const figs = [...document.querySelectorAll('figure.chart')];
      return figs.length > 1 && figs[1].getBoundingClientRect().top > figs[0].getBoundingClientRect().bottom;
    });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="chart-requests"] svg')?.getAttribute('width') <= 390,
    );
    const phone = await shot('overview-phone', { fullPage: false });
    t.diagnostic(`screenshot: ${phone}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.setViewportSize(VIEWPORT);
  });

  it('signs out: the key and the data are gone', async () => {
    await go('sign-out');
    await byTestId('admin-key').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('relayapi.adminKey')), null);
    assert.equal(await byTestId('view').innerText(), '');
    await page.reload();
    await byTestId('admin-key').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#topbar').isVisible(), false);
  });

  it('made every request to the relay’s own origin, the key only in a header, with no CSP violation', async () => {
    if (background) await background.stop();
    background = null;
    const origin = new URL(relayURL).origin;
    const urls = requests.map((r) => r.url()).filter((u) => !u.startsWith('data:'));
    assert.ok(urls.length > 10, `${urls.length} requests`);
    const elsewhere = urls.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(elsewhere, [], 'requests to another origin');
    assert.ok(!urls.some((u) => u.includes(ADMIN_KEY)), 'the key in a URL');
    for (const r of requests) {
      const path = new URL(r.url()).pathname;
      const auth = (await r.allHeaders()).authorization;
      if (path === '/admin/' || path === '/admin' || path.startsWith('/admin/assets/')) {
        assert.equal(auth, undefined, `${path} carried the key`);
      } else if (path.startsWith('/admin/')) {
        assert.ok(
          auth === `Bearer ${ADMIN_KEY}` || auth === `Bearer ${ADMIN_KEY}-wrong`,
          `${r.method()} ${path}: ${auth}`,
        );
      }
    }
    // Every page and asset answer carried the policy.
    const assets = responses.filter(([u]) => /\/admin\/(assets\/.*)?$/.test(new URL(u).pathname));
    assert.ok(assets.length >= 4);
    for (const [u, h] of assets) assert.equal(h['content-security-policy'], CSP, u);

    assert.deepEqual(cspViolations, []);
    // The listener works: a <style> element added now is refused and reported.
    await page.evaluate(() => {
      const s = document.createElement('style');
      s.textContent = 'body { outline: 1px solid red; }';
      document.head.append(s);
    });
    const seen = await Promise.race([violationReported, new Promise((r) => setTimeout(() => r(null), 5_000).unref())]);
    assert.ok(seen && /^style-src/.test(seen), `the deliberate violation was not seen: ${cspViolations.join('; ')}`);
  });
});
