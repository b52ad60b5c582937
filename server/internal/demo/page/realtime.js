// The playground's second mode: an OpenAI Realtime session over a WebSocket,
// through the relay (docs/api.md, "Realtime sessions (WebSocket)"). The page
// asks its backend for a session (GET /api/session?scenario=realtime →
// {baseURL, model}) and opens a plain browser WebSocket to
// baseURL + /realtime?model=M with the "realtime" subprotocol: the token is in
// the path, the relay checks its origins against this page's Origin and its
// models against ?model=, then dials the provider with the real key.
//
// A plain WebSocket, not openai-node's realtime client: that one always dials
// wss://, and this playground's relay speaks plain HTTP on loopback.

const $ = (selector) => document.querySelector(selector);
const chatForm = $('#chat');
const panel = $('#realtime');
const form = $('#rt-form');
const input = $('#rt-message');
const send = $('#rt-send');
const hangup = $('#rt-hangup');
const status = $('#rt-status');
const log = $('#rt-log');
const events = $('#rt-events');
const usageLine = $('#rt-usage');
const sessionLine = $('#rt-session');

// What a user should read for the error codes a realtime session may meet.
const FRIENDLY = {
  model_not_allowed: 'This session may not use that model.',
  invalid_model: 'The provider does not offer that model for realtime sessions.',
  invalid_api_key: 'The provider refused the key inside the token.',
  session_expired: 'The provider ended the session: it lasted too long.',
  invalid_json: 'The page sent an event that is not valid JSON.',
};

// Close codes other than 1000, as the relay and the provider use them.
const CLOSE_CODES = {
  1001: 'the relay or the page went away',
  1006: 'the connection was refused or dropped without a close frame',
  1009: 'a message was too big',
  1011: 'the provider failed or could not be reached',
  3000: 'the provider refused the authentication',
  4000: 'the provider refused the request',
  4001: 'the token was revoked',
  4008: 'the session reached its time limit',
  4009: 'the session was idle too long',
};

// --- the two modes -------------------------------------------------------------

function showMode(mode) {
  const realtime = mode === 'realtime';
  chatForm.hidden = realtime;
  panel.hidden = !realtime;
  document.body.dataset.mode = mode;
}
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener('change', () => radio.checked && showMode(radio.value));
  if (radio.checked) showMode(radio.value);
}

// --- the session ---------------------------------------------------------------

let ws = null; // the open (or opening) WebSocket
let answer = null; // the bubble of the response in progress
let deltaLine = null; // the events list's line counting deltas
let deltas = 0;

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function setControls() {
  const live = ws !== null;
  hangup.disabled = !live;
  send.disabled = ws?.readyState === WebSocket.CONNECTING;
}

function bubble(kind, title, text = '') {
  const item = document.createElement('article');
  item.className = `msg ${kind}`;
  const who = document.createElement('h2');
  who.textContent = title;
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  item.append(who, body);
  log.append(item);
  item.scrollIntoView({ block: 'end' });
  return { item, body };
}

function showError(title, detail, code = '') {
  const { item, body } = bubble('error rt-error', 'Error');
  body.textContent = '';
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.className = 'detail';
  p.textContent = detail;
  body.append(strong, p);
  item.dataset.code = code;
}

// event logs one event: → sent, ← received; the deltas of a response share a line.
function event(direction, type) {
  if (type.endsWith('.delta')) {
    deltas++;
    if (!deltaLine) {
      deltaLine = document.createElement('li');
      events.append(deltaLine);
    }
    deltaLine.textContent = `${direction} ${type} ×${deltas}`;
    return;
  }
  deltaLine = null;
  deltas = 0;
  const line = document.createElement('li');
  line.textContent = `${direction} ${type}`;
  events.append(line);
}

function sendEvent(ev) {
  ws.send(JSON.stringify(ev));
  event('→', ev.type);
}

async function getSession() {
  let res;
  try {
    res = await fetch('/api/session?scenario=realtime', { cache: 'no-store' });
  } catch {
    throw new Error('The page’s backend cannot be reached.');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`The page’s backend could not start a session: ${data.error?.message ?? res.status}`);
  return data;
}

// connect opens a session and resolves once the WebSocket is open.
async function connect() {
  setStatus('connecting', 'Connecting: getting a session from the page’s backend…');
  const session = await getSession();
  const base = new URL(session.baseURL);
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${base.href.replace(/\/$/, '')}/realtime?model=${encodeURIComponent(session.model)}`;
  const token = base.pathname.split('/')[2] ?? '';
  sessionLine.textContent =
    `relay ${base.origin} · model ${session.model} · token ${token.slice(0, 12)}…(${token.length} characters, ` +
    'encrypted: the provider key inside it is unreadable here)';
  setStatus('connecting', `Connecting to ${base.origin}…`);
  const socket = new WebSocket(url, ['realtime']);
  ws = socket;
  setControls();
  socket.addEventListener('message', (m) => onEvent(m.data));
  socket.addEventListener('close', (c) => onClose(socket, c));
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('close', () => reject(new Error('closed')), { once: true });
  });
  setStatus('open', `Open: a realtime session with ${session.model} through the relay.`);
  setControls();
  // The session answers in audio by default; this page shows text.
  sendEvent({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
}

function onEvent(data) {
  let ev;
  try {
    ev = JSON.parse(data);
  } catch {
    event('←', '(not JSON)');
    return;
  }
  event('←', String(ev.type));
  switch (ev.type) {
    case 'response.created':
      answer = bubble('assistant rt-answer', 'Assistant');
      answer.item.dataset.state = 'streaming';
      break;
    case 'response.output_text.delta':
    case 'response.output_audio_transcript.delta':
      answer ??= bubble('assistant rt-answer', 'Assistant');
      answer.body.textContent += ev.delta ?? '';
      break;
    case 'response.done': {
      const r = ev.response ?? {};
      if (answer) answer.item.dataset.state = r.status === 'completed' ? 'done' : r.status || 'done';
      answer = null;
      showUsage(r.usage);
      break;
    }
    case 'error': {
      const e = ev.error ?? {};
      showError(
        FRIENDLY[e.code] ?? 'The session reported an error.',
        `Error event: ${e.type ?? 'error'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? ''}`,
        e.code ?? '',
      );
      break;
    }
  }
}

function showUsage(u) {
  if (!u) {
    usageLine.textContent = 'Usage: not reported.';
    return;
  }
  const inDetail = u.input_token_details ?? {};
  usageLine.textContent =
    `Usage of the last response: ${u.input_tokens} input tokens (text ${inDetail.text_tokens ?? 0}, ` +
    `audio ${inDetail.audio_tokens ?? 0}, cached ${inDetail.cached_tokens ?? 0}), ` +
    `${u.output_tokens} output tokens, ${u.total_tokens} in total.`;
  usageLine.dataset.input = String(u.input_tokens);
  usageLine.dataset.output = String(u.output_tokens);
}

function onClose(socket, c) {
  if (ws !== socket) return;
  ws = null;
  if (answer) answer.item.dataset.state = 'error';
  answer = null;
  event('←', `close ${c.code}`);
  const reason = c.reason ? ` “${c.reason}”` : '';
  status.dataset.code = String(c.code);
  if (c.code === 1000) {
    setStatus('closed', `Closed: code 1000${reason}.`);
  } else {
    const why = CLOSE_CODES[c.code] ?? 'the session ended abnormally';
    setStatus('closed', `Closed: code ${c.code}${reason}: ${why}.`);
    showError(
      `The session ended: ${why}.`,
      c.code === 1006
        ? 'A browser does not show why a WebSocket handshake was refused. The usual causes: the token does not ' +
            `allow this page’s origin (${location.origin}) or the model, it has expired or used up its calls, or ` +
            'the relay is not running.'
        : `Close code ${c.code}${reason}.`,
      String(c.code),
    );
  }
  setControls();
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || ws?.readyState === WebSocket.CONNECTING) return;
  void say(text);
});

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    form.requestSubmit();
  }
});

async function say(text) {
  bubble('user', 'You', text);
  input.value = '';
  try {
    if (!ws) await connect();
  } catch (err) {
    if (err.message !== 'closed') {
      setStatus('closed', 'Not connected.');
      showError(err.message, '');
    }
    ws = null;
    setControls();
    return;
  }
  sendEvent({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  sendEvent({ type: 'response.create' });
  input.focus();
}

hangup.addEventListener('click', () => {
  if (!ws) return;
  setStatus('closing', 'Hanging up…');
  ws.close(1000, 'hang up');
});
