// RelayAPI playground. For every message the page asks its own backend for a
// session (GET /api/session → {baseURL, model}), then streams the answer with
// the official `openai` package pointed at the relay: baseURL carries the
// token, so the page holds no API key at all. Relay errors come back in the
// OpenAI error shape and are shown as a user would want to read them.
//
// The import map in index.html says where `openai` comes from: the example
// backend serves the real package from node_modules; `relayapi demo` serves a
// small stand-in (so the Go binary carries no npm code).
import OpenAI from 'openai';

const $ = (selector) => document.querySelector(selector);
const form = $('#chat');
const input = $('#message');
const scenario = $('#scenario');
const hint = $('#scenario-hint');
const log = $('#log');
const status = $('#status');
const sessionLine = $('#session');
const send = $('#send');

const HINTS = {
  ok: 'A token for 20 calls, one model and this page’s origin. The answer streams in word by word.',
  exhausted: 'A token for one call, which the backend already spent: the relay answers 429 call_limit_exceeded.',
  model: 'The token allows one model and the page asks for another: the relay answers 403 model_not_allowed.',
  'wrong-origin':
    'The token’s origins claim names another website. The relay does not allow this page in its CORS answer, so the browser refuses to send the request at all.',
  expired: 'A token past its expiry time: the relay answers 401 token_expired.',
};

// What a user should read for each relay error code (docs/api.md, Errors).
const FRIENDLY = {
  token_expired: 'Your session has expired. Reload the page to start a new one.',
  token_not_yet_valid: 'Your session is not valid yet. Check the clock of this computer.',
  token_revoked: 'Your session was ended by the site. Reload the page to start a new one.',
  invalid_token: 'Your session is not valid. Reload the page to start a new one.',
  missing_token: 'The request reached the relay without a session token.',
  call_limit_exceeded: 'This session has used all of its messages.',
  budget_exceeded: 'This session has used all of its tokens.',
  rate_limited: 'You are sending messages too fast. Wait a moment and try again.',
  concurrency_limited: 'Another answer is still streaming. Wait for it to finish.',
  model_not_allowed: 'This session may not use that model.',
  path_not_allowed: 'This session may not call that endpoint.',
  origin_not_allowed: 'This website is not allowed to use this session.',
  ip_not_allowed: 'Your network is not allowed to use this session.',
  request_too_large: 'The message is too long.',
  upstream_unreachable: 'The AI provider cannot be reached right now. Try again later.',
  upstream_timeout: 'The AI provider did not answer in time. Try again later.',
};

const history = [];
let busy = false;

function showHint() {
  hint.textContent = HINTS[scenario.value] ?? '';
}
scenario.addEventListener('change', showHint);
showHint();

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || busy) return;
  void chat(text, scenario.value);
});

function bubble(role, text = '') {
  const item = document.createElement('article');
  item.className = `msg ${role}`;
  const who = document.createElement('h2');
  who.textContent = role === 'user' ? 'You' : 'Assistant';
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  item.append(who, body);
  log.append(item);
  item.scrollIntoView({ block: 'end' });
  return { item, body };
}

function setBusy(on) {
  busy = on;
  send.disabled = on;
  document.body.dataset.busy = String(on);
}

async function getSession(name) {
  let res;
  try {
    res = await fetch(`/api/session?scenario=${encodeURIComponent(name)}`, { cache: 'no-store' });
  } catch {
    throw new PageError('The page’s backend cannot be reached.');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new PageError(`The page’s backend could not start a session: ${data.error?.message ?? res.status}`);
  return data;
}

class PageError extends Error {}

function describeSession(s) {
  const url = new URL(s.baseURL);
  const token = url.pathname.split('/')[2] ?? '';
  sessionLine.textContent =
    `relay ${url.origin} · model ${s.model} · token ${token.slice(0, 12)}…(${token.length} characters, ` +
    `encrypted: the provider key inside it is unreadable here)`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function chat(text, scenarioName) {
  setBusy(true);
  bubble('user', text);
  input.value = '';
  const answer = bubble('assistant');
  answer.item.dataset.state = 'pending';
  answer.item.dataset.scenario = scenarioName;
  answer.item.dataset.chunks = '0';
  const started = performance.now();
  let chunks = 0;
  let firstAt = 0;
  try {
    status.textContent = 'Getting a session from the page’s backend…';
    const session = await getSession(scenarioName);
    describeSession(session);
    for (let left = Math.ceil((session.waitMs ?? 0) / 1000); left > 0; left--) {
      status.textContent = `Waiting ${left} s for the token to expire…`;
      await sleep(1000);
    }
    const client = new OpenAI({
      baseURL: session.baseURL,
      apiKey: 'relayapi', // unused: the token is in baseURL; the SDK insists on a value
      dangerouslyAllowBrowser: true, // safe: the browser holds a scoped, short-lived token, not a key
      maxRetries: 0, // show the relay's answer at once instead of retrying a 429
      timeout: 60_000,
    });
    const messages = [...history, { role: 'user', content: text }];
    status.textContent = 'Waiting for the first token…';
    answer.item.dataset.state = 'streaming';
    const stream = await client.chat.completions.create({ model: session.model, messages, stream: true });
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (!delta) continue;
      if (!firstAt) firstAt = performance.now();
      answer.body.textContent += delta;
      chunks++;
      answer.item.dataset.chunks = String(chunks);
      status.textContent = `Streaming… ${chunks} chunks`;
    }
    answer.item.dataset.state = 'done';
    history.push({ role: 'user', content: text }, { role: 'assistant', content: answer.body.textContent });
    const total = ((performance.now() - started) / 1000).toFixed(1);
    const first = firstAt ? `, first after ${Math.round(firstAt - started)} ms` : '';
    status.textContent = `Done: ${chunks} chunks in ${total} s${first}.`;
  } catch (err) {
    answer.item.dataset.state = 'error';
    answer.item.classList.add('error');
    showError(answer.body, err);
    status.textContent = 'The request failed.';
  } finally {
    setBusy(false);
    input.focus();
  }
}

// showError turns what the openai package throws into a readable message:
// an APIError has the HTTP status and the relay's {message, code}; a request
// that never got an answer (network down, or the browser's CORS check
// refused it) is an APIConnectionError with no status.
function showError(target, err) {
  target.textContent = '';
  const title = document.createElement('strong');
  const detail = document.createElement('p');
  detail.className = 'detail';
  if (err instanceof PageError) {
    title.textContent = err.message;
  } else if (typeof err?.status === 'number') {
    const code = err.code ?? err.error?.code ?? '';
    const message = err.error?.message ?? err.message;
    title.textContent = FRIENDLY[code] ?? 'The relay refused the request.';
    detail.textContent = `Relay answer: HTTP ${err.status}${code ? ` ${code}` : ''}: ${message}`;
    target.dataset.code = code;
    target.dataset.status = String(err.status);
  } else {
    title.textContent = 'Network error: the browser could not get an answer from the relay.';
    const cause = err?.cause?.message ?? err?.message ?? String(err);
    detail.textContent =
      `The browser blocked or lost the request (${cause}). If the relay is running, the usual cause ` +
      `is CORS: the token does not allow this page’s origin (${location.origin}), so the relay’s ` +
      'CORS answer leaves it out and the browser refuses to send the request.';
    target.dataset.code = 'network_error';
  }
  target.append(title, detail);
}
