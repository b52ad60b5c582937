// The operator dashboard: signs in with the relay's admin key (kept in this
// tab's sessionStorage, sent only as Authorization: Bearer to this origin) and
// reads the admin API below the page's own URL (…/admin/), so it works under
// any base path. Views are hash routes: #/overview, #/tokens, #/tokens/{jti},
// #/requests, #/providers. Everything is built with DOM calls: no inline
// script or style, no HTML parsed from data.
import { compact, render as renderChart } from './charts.js';

const KEY = 'relayapi.adminKey';
const POLL_MS = 5000;
// A poll may cost the store what scanning the range's log costs (about a
// second of a core for 200,000 lines, bench: BenchmarkStatsOfAnHour):
// the next one waits ten times as long as the last took, so an open page
// never keeps the relay more than a tenth busy.
const POLL_COST_FACTOR = 10;
const STREAM_HISTORY = 120; // polls kept for the active streams plot (10 min)
// Range → length and bucket size (seconds): 30 to 96 buckets per chart.
const RANGES = {
  '15m': { ms: 15 * 60e3, bucket: 30, text: '15 minutes' },
  '1h': { ms: 60 * 60e3, bucket: 60, text: 'hour' },
  '6h': { ms: 6 * 60 * 60e3, bucket: 300, text: '6 hours' },
  '24h': { ms: 24 * 60 * 60e3, bucket: 900, text: '24 hours' },
};

const $ = (id) => document.getElementById(id);
const els = {
  topbar: $('topbar'),
  signin: $('signin'),
  signinForm: $('signin-form'),
  keyInput: $('admin-key'),
  signinError: $('signin-error'),
  view: $('view'),
  status: $('status'),
  signOut: $('sign-out'),
  main: $('main'),
  dialog: $('revoke-dialog'),
  revokeJti: $('revoke-jti'),
  revokeError: $('revoke-error'),
  revokeCancel: $('revoke-cancel'),
  revokeConfirm: $('revoke-confirm'),
};

// --- the key and the API -----------------------------------------------------------

class AuthError extends Error {}

class ApiError extends Error {
  constructor(status, code, message) {
    super(status ? `${message} (${status}${code ? ` ${code}` : ''})` : message);
    this.status = status;
    this.code = code;
  }
}

function getKey() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

function setKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  } catch {
    // storage refused (a locked-down browser): the page then signs in again
  }
}

// Calls the admin API at path, relative to the page (…/admin/): the key goes in
// the Authorization header of a same-origin request, never in a URL or cookie,
// and never follows a redirect.
async function api(path, { method = 'GET', key = getKey() } = {}) {
  if (!key) throw new AuthError('signed out');
  const url = new URL(path, document.baseURI);
  if (url.origin !== location.origin) throw new Error('refusing to send the admin key to another origin');
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, '', 'The relay could not be reached.');
  }
  if (res.status === 401) throw new AuthError('wrong admin key');
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      body?.error?.code ?? '',
      body?.error?.message ?? `The relay answered ${res.status}.`,
    );
  }
  return body;
}

// path?k=v for the non-empty values of params.
function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

const enc = encodeURIComponent;

// RFC 3339 in UTC, whole seconds.
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// --- DOM helpers ----------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const field = (root, name) => root.querySelector(`[data-field="${name}"]`);
const pad = (n) => String(n).padStart(2, '0');
const num = (v) => (v === null || v === undefined ? '–' : new Intl.NumberFormat('en').format(v));

function localTime(value) {
  if (!value) return '–';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function timeEl(value) {
  if (!value) return h('span', { class: 'muted', text: '–' });
  return h('time', { datetime: value, title: value, text: localTime(value) });
}

function ms(v) {
  if (v === null || v === undefined) return '–';
  return v >= 1000 ? `${compact(v / 1000)} s` : `${compact(v)} ms`;
}

const tokenLink = (jti) => h('a', { href: `#/tokens/${enc(jti)}`, class: 'mono' }, jti);
const subjectLink = (sub) =>
  sub ? h('a', { href: `#/tokens?sub=${enc(sub)}` }, sub) : h('span', { class: 'muted', text: '–' });

function statusBadge(status) {
  const cls = status >= 500 ? 'bad' : status >= 400 ? 'warn' : status >= 200 && status < 400 ? 'ok' : '';
  return h('span', { class: `badge ${cls}` }, String(status));
}

// A scrollable, keyboard-reachable table. columns: [{ title, cell(row), num? }]
function table(columns, rows, { label, testid, rowTestid } = {}) {
  const thead = h(
    'thead',
    {},
    h(
      'tr',
      {},
      columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.title)),
    ),
  );
  const tbody = h(
    'tbody',
    {},
    rows.map((r) =>
      h(
        'tr',
        { 'data-testid': rowTestid },
        columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r))),
      ),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label, 'data-testid': testid },
    h('table', {}, label ? h('caption', { class: 'sr-only' }, label) : null, thead, tbody),
  );
}

// --- state, routing -------------------------------------------------------------------

let generation = 0; // bumped on every route change: late answers of an old view are dropped
let pollTimer = null;
let lastPlace = '';
let redraw = null; // redraws the current view's charts (window resized)
let streamHistory = [];

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

function setStatus(text, error = false) {
  els.status.textContent = text;
  els.status.classList.toggle('error', error);
}

function showSignin(message = '') {
  els.topbar.hidden = true;
  els.view.hidden = true;
  els.view.replaceChildren();
  els.signin.hidden = false;
  els.signinError.textContent = message;
  els.signinError.hidden = !message;
  setStatus('');
  document.title = 'Sign in · RelayAPI dashboard';
}

function showApp() {
  els.signin.hidden = true;
  els.signinError.hidden = true;
  els.topbar.hidden = false;
  els.view.hidden = false;
}

// Forgets the key and every piece of data on the page.
function signOut(message = '') {
  setKey('');
  stopPolling();
  generation++;
  redraw = null;
  streamHistory = [];
  lastPlace = '';
  if (els.dialog.open) els.dialog.close();
  showSignin(message);
  els.keyInput.focus();
}

function fail(gen, err) {
  if (gen !== generation) return;
  if (err instanceof AuthError) {
    signOut('Signed out: wrong admin key (the relay refused it).');
    return;
  }
  setStatus(err.message || String(err), true);
}

function parseHash() {
  const hash = location.hash;
  if (!hash.startsWith('#/')) return null;
  const q = hash.indexOf('?');
  const path = q < 0 ? hash.slice(2) : hash.slice(2, q);
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  let parts;
  try {
    parts = path.split('/').map(decodeURIComponent);
  } catch {
    parts = ['overview'];
  }
  return { parts, params };
}

const VIEWS = { overview, tokens, requests, providers };
const TITLES = { overview: 'Overview', tokens: 'Tokens', token: 'Token', requests: 'Requests', providers: 'Providers' };

function route() {
  const r = parseHash();
  if (!r) return; // an in-page anchor, not a view
  stopPolling();
  redraw = null;
  const gen = ++generation;
  setStatus('');
  if (!getKey()) {
    showSignin();
    return;
  }
  showApp();
  let [name, arg] = r.parts;
  if (!VIEWS[name]) {
    history.replaceState(null, '', '#/overview');
    name = 'overview';
    arg = undefined;
  }
  for (const a of els.topbar.querySelectorAll('nav a')) {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const place = `${name}/${arg ?? ''}`;
  // The same place with other parameters (a range, filters): the control
  // that changed them keeps the focus in the new rendering.
  const focused = place === lastPlace ? document.activeElement?.dataset?.testid : undefined;
  document.title = `${name === 'tokens' && arg ? TITLES.token : TITLES[name]} · RelayAPI dashboard`;
  if (name === 'tokens' && arg) tokenPage(gen, arg);
  else VIEWS[name](gen, r.params);
  if (place !== lastPlace) els.view.querySelector('h1')?.focus();
  else if (focused) els.view.querySelector(`[data-testid="${focused}"]`)?.focus();
  lastPlace = place;
}

function mount(templateId) {
  const content = $(templateId).content.cloneNode(true);
  els.view.replaceChildren(content);
  return els.view;
}

// Re-renders the current route (the hash did not change).
function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// --- overview ----------------------------------------------------------------------------

function statsPath(range) {
  const { ms: span, bucket } = RANGES[range];
  const step = bucket * 1000;
  const until = new Date(Math.ceil(Date.now() / step) * step);
  const since = new Date(until.getTime() - span);
  return withQuery('stats', { since: iso(since), until: iso(until), bucket });
}

function overview(gen, params) {
  const root = mount('tpl-overview');
  const range = RANGES[params.get('range')] ? params.get('range') : '1h';
  for (const input of root.querySelectorAll('input[name="range"]')) {
    input.checked = input.value === range;
    input.addEventListener('change', () => {
      if (input.checked) navigate(`#/overview?range=${input.value}`);
    });
  }
  let polls = 0;
  let last = null;
  const draw = () => last && drawOverview(root, last, polls);
  redraw = draw;
  const poll = async () => {
    if (gen !== generation) return;
    const started = performance.now();
    let wait = POLL_MS;
    try {
      const stats = await api(statsPath(range));
      wait = Math.max(POLL_MS, POLL_COST_FACTOR * (performance.now() - started));
      if (gen !== generation) return;
      polls++;
      streamHistory.push({ t: new Date(), v: stats.active_streams ?? 0 });
      if (streamHistory.length > STREAM_HISTORY) streamHistory = streamHistory.slice(-STREAM_HISTORY);
      last = stats;
      draw();
      if (els.status.classList.contains('error')) setStatus('');
    } catch (err) {
      fail(gen, err);
      if (err instanceof AuthError) return;
    }
    if (gen === generation) pollTimer = setTimeout(poll, wait);
  };
  poll();
}

function setTile(root, name, text, value) {
  const dd = field(root, name);
  dd.textContent = text;
  if (value !== undefined) dd.dataset.value = String(value ?? '');
}

function drawOverview(root, s, polls) {
  const t = s.totals ?? {};
  const errRate = t.requests ? ` (${((100 * t.errors) / t.requests).toFixed(1)} %)` : '';
  setTile(root, 'requests', num(t.requests), t.requests);
  setTile(root, 'errors', `${num(t.errors)}${errRate}`, t.errors);
  setTile(root, 'prompt', num(t.prompt_tokens), t.prompt_tokens);
  setTile(root, 'completion', num(t.completion_tokens), t.completion_tokens);
  setTile(
    root,
    'latency',
    `${ms(t.latency_ms?.p50)} / ${ms(t.latency_ms?.p99)}`.replace(/ ms \/ (.*) ms$/, ' / $1 ms'),
  );
  setTile(root, 'streams', num(s.active_streams), s.active_streams);
  const updated = field(root, 'updated');
  updated.textContent = `Updated ${localTime(new Date())}.`;
  updated.dataset.polls = String(polls);
  const trunc = field(root, 'truncated');
  trunc.hidden = !s.truncated;
  trunc.textContent = s.truncated
    ? `Only the newest ${num(s.scanned)} log rows were read: the plots miss the start of the range.`
    : '';

  const buckets = s.buckets ?? [];
  const times = buckets.map((b) => new Date(b.start));
  root.querySelector('[data-chart="requests"]').dataset.buckets = String(buckets.filter((b) => b.requests > 0).length);
  const perMin = 60 / (s.bucket_seconds || 60);
  const rate = (v) => (v === null || v === undefined ? null : v * perMin);
  const perMinute = (v) => `${compact(v)}/min`;
  const chart = (name) => root.querySelector(`[data-chart="${name}"]`);
  const rangeText = `${localTime(s.since)} to ${localTime(s.until)}`;

  renderChart(chart('requests'), {
    times,
    series: [
      { name: 'requests', values: buckets.map((b) => rate(b.requests)), color: 0 },
      { name: 'errors (status ≥ 400)', values: buckets.map((b) => rate(b.errors)), color: 3 },
    ],
    format: perMinute,
    label: `Requests per minute, ${rangeText}: ${num(t.requests)} requests, ${num(t.errors)} errors.`,
    empty: t.requests ? '' : 'No requests in this range.',
  });

  const byCode = Object.entries(t.by_code ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  renderChart(chart('errors'), {
    kind: 'stacked',
    times,
    series: byCode.map(([code], k) => ({
      name: code,
      values: buckets.map((b) => rate(b.by_code?.[code] ?? 0)),
      color: 3 + k,
    })),
    format: perMinute,
    label: `Errors by code, ${rangeText}: ${byCode.map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}.`,
    empty: byCode.length ? '' : 'No error codes in this range.',
  });

  renderChart(chart('tokens'), {
    kind: 'stacked',
    times,
    series: [
      { name: 'prompt', values: buckets.map((b) => rate(b.prompt_tokens)), color: 0 },
      { name: 'completion', values: buckets.map((b) => rate(b.completion_tokens)), color: 4 },
    ],
    format: perMinute,
    label: `Tokens per minute, ${rangeText}: ${num(t.prompt_tokens)} prompt, ${num(t.completion_tokens)} completion.`,
  });

  for (const [name, key, what] of [
    ['latency', 'latency_ms', 'Latency'],
    ['ttfb', 'ttfb_ms', 'Time to first byte'],
  ]) {
    const p = t[key] ?? {};
    renderChart(chart(name), {
      times,
      series: ['p50', 'p90', 'p99'].map((q, k) => ({
        name: q,
        values: buckets.map((b) => b[key]?.[q] ?? null),
        color: [2, 1, 3][k],
      })),
      format: ms,
      label: `${what} percentiles over the range: p50 ${ms(p.p50)}, p90 ${ms(p.p90)}, p99 ${ms(p.p99)}.`,
    });
  }

  renderChart(chart('streams'), {
    times: streamHistory.map((x) => x.t),
    series: [{ name: 'active streams', values: streamHistory.map((x) => x.v), color: 5 }],
    format: (v) => String(v),
    label: `Active streams now: ${num(s.active_streams)}.`,
  });
}

// --- tokens and subjects ----------------------------------------------------------------

// A listing with Previous / Next page buttons over the API's cursors.
function pager(container, gen, pathFor, renderRows, { testid } = {}) {
  const cursors = ['']; // the cursor of every page up to the current one
  let next = null;
  const prev = h('button', { type: 'button', class: 'quiet', 'data-testid': `${testid}-prev` }, 'Previous page');
  const nextBtn = h('button', { type: 'button', class: 'quiet', 'data-testid': `${testid}-next` }, 'Next page');
  const where = h('span', { class: 'muted small', 'data-testid': `${testid}-page` });
  const nav = h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, where, nextBtn);
  const body = h('div', {});
  container.replaceChildren(body, nav);
  const load = async (from) => {
    body.setAttribute('aria-busy', 'true');
    try {
      const page = await api(pathFor(cursors.at(-1)));
      if (gen !== generation) return;
      next = page.next_cursor ?? null;
      const rows = page.data ?? [];
      // A filtered page reads a bounded slice of the log (SQLite, Redis): it may
      // end early, even empty.
      body.replaceChildren(
        !rows.length && next
          ? h('p', { class: 'muted' }, 'Nothing matched in this part of the log: the next page reads on.')
          : renderRows(rows),
      );
      where.textContent = `Page ${cursors.length}`;
      prev.disabled = cursors.length < 2;
      nextBtn.disabled = !next;
      nav.hidden = cursors.length < 2 && !next;
      // Keyboard focus stays on the pager, moving off a button now disabled.
      if (from?.disabled) (from === prev ? nextBtn : prev).focus();
    } catch (err) {
      fail(gen, err);
    } finally {
      body.removeAttribute('aria-busy');
    }
  };
  prev.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    load(prev);
  });
  nextBtn.addEventListener('click', () => {
    if (!next) return;
    cursors.push(next);
    load(nextBtn);
  });
  return load();
}

function tokenRows(rows) {
  if (!rows.length) return h('p', { class: 'muted', 'data-testid': 'tokens-empty', tabindex: '-1' }, 'No tokens.');
  return table(
    [
      { title: 'Token (jti)', cell: (u) => tokenLink(u.jti) },
      { title: 'Calls', num: true, cell: (u) => `${num(u.calls)}${u.max_calls ? ` / ${num(u.max_calls)}` : ''}` },
      {
        title: 'Tokens used',
        num: true,
        cell: (u) => `${num(u.tokens_used)}${u.token_budget ? ` / ${num(u.token_budget)}` : ''}`,
      },
      { title: 'Last seen', cell: (u) => timeEl(u.last_seen) },
      { title: 'State', cell: (u) => (u.revoked ? h('span', { class: 'badge bad' }, 'revoked') : 'active') },
    ],
    rows,
    { label: 'Tokens of the subject', testid: 'subject-tokens', rowTestid: 'subject-token-row' },
  );
}

function topTable(title, rows, kind, by, testid) {
  const max = Math.max(1, ...rows.map((r) => r[by] ?? 0));
  const cols = [
    kind === 'token'
      ? { title: 'Token (jti)', cell: (r) => tokenLink(r.jti) }
      : { title: 'Subject', cell: (r) => subjectLink(r.sub) },
  ];
  if (kind === 'token') cols.push({ title: 'Subject', cell: (r) => subjectLink(r.sub) });
  cols.push(
    { title: 'Calls', num: true, cell: (r) => num(r.calls) },
    { title: 'Tokens', num: true, cell: (r) => num(r.tokens) },
    {
      title: by === 'calls' ? 'Share of calls' : 'Share of tokens',
      cell: (r) => h('progress', { max, value: r[by] ?? 0, 'aria-label': `${num(r[by])} ${by}` }),
    },
  );
  const section = h('section', { class: 'toplist', 'data-testid': testid }, h('h3', {}, title));
  section.append(
    rows.length
      ? table(cols, rows, { label: title, rowTestid: `${testid}-row` })
      : h('p', { class: 'muted' }, 'No calls in this range.'),
  );
  return section;
}

function tokens(gen, params) {
  const root = mount('tpl-tokens');
  const jtiForm = root.querySelector('[data-form="jti"]');
  const subForm = root.querySelector('[data-form="sub"]');
  const range = RANGES[params.get('range')] ? params.get('range') : '24h';
  const sub = params.get('sub') ?? '';
  jtiForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const jti = jtiForm.elements.jti.value.trim();
    if (jti) navigate(`#/tokens/${enc(jti)}`);
  });
  subForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const s = subForm.elements.sub.value.trim();
    if (s) navigate(withQuery('#/tokens', { sub: s, range: range === '24h' ? '' : range }));
  });
  subForm.elements.sub.value = sub;
  const select = root.querySelector('#top-range');
  select.value = range;
  select.addEventListener('change', () => navigate(withQuery('#/tokens', { sub, range: select.value })));

  if (sub) {
    field(root, 'subject').hidden = false;
    field(root, 'subject-name').textContent = sub;
    pager(field(root, 'subject-table'), gen, (cursor) => withQuery('tokens', { sub, cursor, limit: 50 }), tokenRows, {
      testid: 'subject-tokens',
    });
  }

  const tops = field(root, 'tops');
  tops.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  api(statsPath(range))
    .then((s) => {
      if (gen !== generation) return;
      const tt = s.top_tokens ?? {};
      const ts = s.top_subjects ?? {};
      tops.replaceChildren(
        topTable('Tokens by calls', tt.by_calls ?? [], 'token', 'calls', 'top-tokens-by-calls'),
        topTable('Tokens by tokens used', tt.by_tokens ?? [], 'token', 'tokens', 'top-tokens-by-tokens'),
        topTable('Subjects by calls', ts.by_calls ?? [], 'subject', 'calls', 'top-subjects-by-calls'),
        topTable('Subjects by tokens used', ts.by_tokens ?? [], 'subject', 'tokens', 'top-subjects-by-tokens'),
      );
    })
    .catch((err) => {
      tops.replaceChildren();
      fail(gen, err);
    });
}

// --- one token -------------------------------------------------------------------------------

function meterBlock(title, used, max, unit, extra, testid) {
  const text = max ? `${num(used)} of ${num(max)} ${unit} used` : `${num(used)} ${unit} used, no limit`;
  return h(
    'section',
    { class: 'meter', 'data-testid': testid },
    h('h2', {}, title),
    max ? h('progress', { max, value: Math.min(used ?? 0, max), 'aria-label': `${title}: ${text}` }) : null,
    h('p', { 'data-testid': `${testid}-text` }, text, extra ? h('span', { class: 'muted' }, ` · ${extra}`) : null),
  );
}

function usageEl(u) {
  const facts = [
    ['Subject', subjectLink(u.sub)],
    [
      'State',
      u.revoked
        ? h('span', { class: 'badge bad', 'data-testid': 'token-state' }, 'revoked')
        : h('span', { class: 'badge ok', 'data-testid': 'token-state' }, 'active'),
    ],
    [
      'Limits',
      `${u.max_calls ? `${num(u.max_calls)} calls` : 'no call limit'}, ${u.token_budget ? `${num(u.token_budget)} tokens` : 'no token budget'}`,
    ],
    ['First seen', timeEl(u.first_seen)],
    ['Last seen', timeEl(u.last_seen)],
    ['Expires', timeEl(u.expires_at)],
    ['Last error', u.last_error ? h('code', {}, u.last_error) : h('span', { class: 'muted' }, 'none')],
  ];
  return h(
    'div',
    { class: 'usage', 'data-testid': 'token-usage' },
    h(
      'div',
      { class: 'grid2' },
      meterBlock('Calls', u.calls, u.max_calls, 'calls', u.refunds ? `${num(u.refunds)} refunded` : '', 'token-calls'),
      meterBlock(
        'Token budget',
        u.tokens_used,
        u.token_budget,
        'tokens',
        `prompt ${num(u.prompt_tokens)}, completion ${num(u.completion_tokens)}${u.tokens_reserved ? `, ${num(u.tokens_reserved)} reserved` : ''}`,
        'token-budget',
      ),
    ),
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
  );
}

function requestRows(rows, { withToken = true } = {}) {
  if (!rows.length)
    return h('p', { class: 'muted', 'data-testid': 'requests-empty', tabindex: '-1' }, 'No requests match.');
  const cols = [
    { title: 'Time', cell: (r) => timeEl(r.time) },
    { title: 'Status', cell: (r) => statusBadge(r.status) },
    { title: 'Code', cell: (r) => (r.error_code ? h('code', {}, r.error_code) : '') },
    { title: 'Provider', cell: (r) => r.provider || '' },
    { title: 'Model', cell: (r) => r.model || '' },
    { title: 'Subject', cell: (r) => subjectLink(r.sub) },
  ];
  if (withToken) cols.push({ title: 'Token', cell: (r) => (r.jti ? tokenLink(r.jti) : '') });
  cols.push(
    { title: 'Latency', num: true, cell: (r) => ms(r.latency_ms) },
    { title: 'TTFB', num: true, cell: (r) => ms(r.ttfb_ms) },
    {
      title: 'Tokens in / out',
      num: true,
      cell: (r) => `${num(r.prompt_tokens)} / ${num(r.completion_tokens)}${r.estimated ? ' (est.)' : ''}`,
    },
    { title: 'Path', cell: (r) => h('code', {}, r.path || '') },
  );
  return table(cols, rows, { label: 'Requests, newest first', testid: 'requests-list', rowTestid: 'request-row' });
}

function tokenPage(gen, jti) {
  const root = mount('tpl-token');
  field(root, 'jti').textContent = jti;
  const usageBox = field(root, 'usage');
  const revokeBtn = field(root, 'revoke');
  const loadUsage = async () => {
    try {
      const u = await api(`tokens/${enc(jti)}`);
      if (gen !== generation) return;
      usageBox.replaceChildren(usageEl(u));
      revokeBtn.hidden = u.revoked;
    } catch (err) {
      if (gen !== generation) return;
      if (err instanceof ApiError && err.status === 404) {
        usageBox.replaceChildren(
          h(
            'p',
            { class: 'warning', 'data-testid': 'token-missing' },
            'The relay has no record of this token: it has not made a call yet, or its record has expired.',
          ),
        );
        revokeBtn.hidden = false; // a token can be revoked before its first call
        return;
      }
      fail(gen, err);
    }
  };
  const loadRequests = () =>
    pager(
      field(root, 'requests'),
      gen,
      (cursor) => withQuery('requests', { jti, cursor, limit: 20 }),
      (rows) => requestRows(rows, { withToken: false }),
      { testid: 'token-requests' },
    );
  revokeBtn.addEventListener('click', () =>
    confirmRevoke(jti, () => {
      if (gen !== generation) return;
      setStatus(`Token ${jti} revoked.`);
      root.querySelector('h1').focus();
      loadUsage();
      loadRequests();
    }),
  );
  loadUsage();
  loadRequests();
}

let onRevoked = null;
let revoking = '';

function confirmRevoke(jti, done) {
  revoking = jti;
  onRevoked = done;
  els.revokeJti.textContent = jti;
  els.revokeError.hidden = true;
  els.revokeError.textContent = '';
  els.revokeConfirm.disabled = false;
  els.dialog.showModal();
}

els.revokeCancel.addEventListener('click', () => els.dialog.close('cancel'));
els.revokeConfirm.addEventListener('click', async () => {
  const gen = generation;
  els.revokeConfirm.disabled = true;
  try {
    await api(`tokens/${enc(revoking)}/revoke`, { method: 'POST' });
    els.dialog.close('revoked');
    onRevoked?.();
  } catch (err) {
    if (err instanceof AuthError) {
      fail(gen, err);
      return;
    }
    els.revokeError.textContent = `Not revoked: ${err.message}`;
    els.revokeError.hidden = false;
    els.revokeConfirm.disabled = false;
  }
});

// --- requests ------------------------------------------------------------------------------

const FILTERS = ['status', 'code', 'provider', 'model', 'sub', 'jti', 'since', 'until'];

// datetime-local value (local time) ⇄ RFC 3339.
function toLocalInput(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : iso(d);
}

function requests(gen, params) {
  const root = mount('tpl-requests');
  const form = root.querySelector('form');
  const filters = {};
  for (const name of FILTERS) {
    const v = params.get(name) ?? '';
    filters[name] = v;
    form.elements[name].value = name === 'since' || name === 'until' ? (v ? toLocalInput(v) : '') : v;
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = {};
    for (const name of FILTERS) {
      const v = form.elements[name].value.trim();
      q[name] = name === 'since' || name === 'until' ? fromLocalInput(v) : v;
    }
    navigate(withQuery('#/requests', q));
  });
  form.addEventListener('reset', () => setTimeout(() => navigate('#/requests'), 0));

  api('providers')
    .then((p) => {
      if (gen !== generation) return;
      root.querySelector('#providers').replaceChildren(...(p.data ?? []).map((x) => h('option', { value: x.name })));
    })
    .catch((err) => {
      if (err instanceof AuthError) fail(gen, err);
    });

  pager(field(root, 'table'), gen, (cursor) => withQuery('requests', { ...filters, cursor, limit: 50 }), requestRows, {
    testid: 'requests',
  });
}

// --- providers -------------------------------------------------------------------------------

function keyState(k) {
  if (k.benched) {
    const until = k.benched_until ? ` until ${localTime(k.benched_until)}` : '';
    return h(
      'span',
      {},
      h('span', { class: 'badge warn' }, 'benched'),
      until,
      k.reason ? h('span', { class: 'muted' }, ` (${k.reason})`) : null,
    );
  }
  return h('span', { class: 'badge ok' }, 'in use');
}

function providerEl(p) {
  return h(
    'section',
    { class: 'provider', 'data-testid': 'provider', 'data-provider': p.name },
    h('h2', {}, p.name, ' ', h('code', { class: 'muted small' }, p.base_url ?? '')),
    table(
      [
        { title: 'Key', cell: (k) => k.id ?? '' },
        { title: 'Ends with', cell: (k) => h('code', { 'data-testid': 'key-last4' }, `…${k.last4 ?? ''}`) },
        { title: 'State', cell: keyState },
        {
          title: 'Last error',
          cell: (k) =>
            k.last_error === null || k.last_error === undefined
              ? h('span', { class: 'muted' }, 'none')
              : h(
                  'span',
                  {},
                  h('code', {}, typeof k.last_error === 'object' ? JSON.stringify(k.last_error) : String(k.last_error)),
                  k.last_error_at ? [' at ', timeEl(k.last_error_at)] : null,
                ),
        },
        { title: 'Last used', cell: (k) => timeEl(k.last_used) },
      ],
      p.keys,
      { label: `Keys of ${p.name}`, rowTestid: 'provider-key' },
    ),
  );
}

// Providers without relay-held keys: one compact table.
function keylessEl(list) {
  return h(
    'section',
    { class: 'provider', 'data-testid': 'providers-keyless' },
    h('h2', {}, 'Tokens carry their own key'),
    h('p', { class: 'muted small' }, 'The relay holds no key for these providers.'),
    table(
      [
        { title: 'Provider', cell: (p) => h('span', { 'data-provider': p.name }, p.name) },
        { title: 'Base URL', cell: (p) => h('code', {}, p.base_url ?? '') },
      ],
      list,
      { label: 'Providers without relay-held keys', rowTestid: 'provider-keyless' },
    ),
  );
}

function providers(gen) {
  const root = mount('tpl-providers');
  const list = field(root, 'list');
  const load = async () => {
    list.setAttribute('aria-busy', 'true');
    try {
      const p = await api('providers');
      if (gen !== generation) return;
      const data = p.data ?? [];
      const held = data.filter((x) => x.keys?.length);
      const keyless = data.filter((x) => !x.keys?.length);
      list.replaceChildren(
        ...held.map(providerEl),
        ...(keyless.length ? [keylessEl(keyless)] : []),
        ...(data.length ? [] : [h('p', { class: 'muted' }, 'No providers configured.')]),
      );
    } catch (err) {
      fail(gen, err);
    } finally {
      list.removeAttribute('aria-busy');
    }
  };
  field(root, 'refresh').addEventListener('click', load);
  load();
}

// --- sign-in, start --------------------------------------------------------------------------

els.signinForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = els.keyInput.value.trim();
  if (!key) return;
  const button = els.signinForm.querySelector('button');
  button.disabled = true;
  els.signinError.hidden = true;
  try {
    await api('tokens?limit=1', { key });
  } catch (err) {
    els.signinError.textContent =
      err instanceof AuthError ? 'Sign-in failed: wrong admin key.' : `Sign-in failed: ${err.message}`;
    els.signinError.hidden = false;
    els.keyInput.focus();
    els.keyInput.select();
    return;
  } finally {
    button.disabled = false;
  }
  setKey(key);
  els.keyInput.value = '';
  if (!parseHash()) history.replaceState(null, '', '#/overview');
  lastPlace = '';
  route();
});

els.signOut.addEventListener('click', () => signOut());

// The skip link moves focus without touching the route.
document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  els.main.focus();
});

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => redraw?.(), 150);
});

window.addEventListener('hashchange', route);

if (!parseHash()) history.replaceState(null, '', '#/overview');
if (getKey()) route();
else {
  showSignin();
  els.keyInput.focus();
}
