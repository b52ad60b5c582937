#!/usr/bin/env node
// The playground's backend: serves the page (the same files `relayapi demo`
// embeds, from server/internal/demo/page, but with the real `openai` package's
// browser build from node_modules) and mints one RelayAPI token per chat
// message with the JavaScript SDK. Plain node:http, no framework, no build.
//
//   GET /api/session?scenario=ok|exhausted|model|wrong-origin|expired|realtime
//     → {"baseURL": "http://relay/t/{token}/v1", "model": "…", "scenario": "…", "waitMs": 0}
//   (realtime: a token for one WebSocket session, paths /v1/realtime and the
//   REALTIME_MODEL; the page opens baseURL + /realtime?model=… with ws://)
//
// Settings (environment):
//   RELAYAPI_RAI       the backend's .rai key file (path or JSON); default ../../default.rai
//   RELAYAPI_URL       the relay as the browser reaches it; default: the .rai `server` section
//   OPENAI_API_KEY     the real provider key, put inside each (encrypted) token;
//                      leave it unset when the relay holds the provider's keys
//   RELAYAPI_PROVIDER  provider name on the relay (default openai)
//   CHAT_MODEL         the model tokens allow (default gpt-4o-mini)
//   OTHER_MODEL        the model the "model" scenario asks for (default gpt-4o)
//   REALTIME_MODEL     the model of the "realtime" scenario (default gpt-realtime-mini)
//   RELAYAPI_LEEWAY    the relay's token.leeway in seconds (default 30), for the expired scenario
//   PAGE_ORIGIN        the page's origin for the `origins` claim (default: the Host the browser used)
//   HOST, PORT         where this server listens (default 127.0.0.1:3000; PORT=0 picks a free port)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
// In your own backend: `npm install relayapi`, then `import { RelayAPI } from 'relayapi'`.
// The example uses this repository's SDK build (cd ../../sdk/js && npm ci && npm run build).
import { RelayAPI, RelayAPIError } from '../../sdk/js/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const settings = {
  host: env.HOST || '127.0.0.1',
  port: Number(env.PORT ?? 3000),
  provider: env.RELAYAPI_PROVIDER || 'openai',
  apiKey: env.OPENAI_API_KEY || undefined,
  model: env.CHAT_MODEL || 'gpt-4o-mini',
  otherModel: env.OTHER_MODEL || 'gpt-4o',
  realtimeModel: env.REALTIME_MODEL || 'gpt-realtime-mini',
  leewaySeconds: Number(env.RELAYAPI_LEEWAY ?? 30),
  pageOrigin: env.PAGE_ORIGIN || '',
};

const relay = await RelayAPI.fromEnv({
  env: { ...env, RELAYAPI_RAI: env.RELAYAPI_RAI || join(here, '../../default.rai') },
  relayURL: env.RELAYAPI_URL || undefined,
});

// One copy of the page for the demo and this example: the demo's import map
// points `openai` at a small embedded stand-in; here it points at the real
// package, and the stand-in is not served.
const pageDir = join(here, '../../server/internal/demo/page');
const LITE = '"/openai-lite.js"';
const indexHTML = (await readFile(join(pageDir, 'index.html'), 'utf8')).replace(LITE, '"/vendor/openai/index.mjs"');
if (indexHTML.includes(LITE) || !indexHTML.includes('/vendor/openai/index.mjs')) {
  throw new Error('the page no longer has the expected import map for openai');
}
// The browser imports `openai` from its ESM build (index.mjs and the files it imports).
const openaiDir = dirname(createRequire(import.meta.url).resolve('openai'));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// mint returns a token and its base URL; every token is scoped to this page.
async function mint(pageOrigin, scenario, overrides = {}) {
  const token = await relay.createToken({
    provider: settings.provider,
    apiKey: settings.apiKey,
    expiresIn: 600,
    maxCalls: 20,
    models: [settings.model],
    paths: ['/v1/chat/completions', '/v1/models'],
    origins: [pageOrigin],
    sub: 'playground-user', // in a real app: the signed-in user's id
    meta: { app: 'playground', scenario },
    ...overrides,
  });
  return { token, baseURL: relay.baseURL(token) };
}

async function session(scenario, pageOrigin) {
  const answer = (baseURL, extra = {}) => ({ scenario, baseURL, model: settings.model, waitMs: 0, ...extra });
  switch (scenario) {
    case 'ok':
      return answer((await mint(pageOrigin, scenario)).baseURL);
    case 'model':
      return answer((await mint(pageOrigin, scenario)).baseURL, { model: settings.otherModel });
    case 'wrong-origin':
      return answer((await mint(pageOrigin, scenario, { origins: ['https://another-site.example'] })).baseURL);
    case 'exhausted': {
      // One call, spent right here (GET /v1/models), so the page's call is refused.
      const { baseURL } = await mint(pageOrigin, scenario, { maxCalls: 1 });
      let res;
      try {
        res = await fetch(`${baseURL}/models`, {
          headers: { origin: pageOrigin },
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
      } catch (err) {
        throw new HTTPError(502, `the relay cannot be reached: ${err.cause?.message ?? err.message}`);
      }
      if (!res.ok) throw new HTTPError(502, `spending the token's call failed: relay answered ${res.status}`);
      return answer(baseURL);
    }
    case 'expired': {
      // Tokens live at least 1 s; the relay refuses them once exp + its leeway has passed.
      const { token, baseURL } = await mint(pageOrigin, scenario, { expiresIn: 1 });
      const refusedFrom = token.expiresAt.getTime() + (settings.leewaySeconds + 1) * 1000;
      return answer(baseURL, { waitMs: Math.max(0, refusedFrom - Date.now() + 100) });
    }
    case 'realtime': {
      // One WebSocket session is one call; the relay checks the token's origins
      // against the handshake's Origin (no CORS protects a WebSocket).
      const model = settings.realtimeModel;
      const { baseURL } = await mint(pageOrigin, scenario, { models: [model], paths: ['/v1/realtime'] });
      return answer(baseURL, { model });
    }
  }
  throw new HTTPError(400, 'scenario must be one of ok, exhausted, model, wrong-origin, expired, realtime');
}

function originOf(req) {
  if (settings.pageOrigin) return settings.pageOrigin;
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(host)) throw new HTTPError(400, 'bad Host header');
  return `http://${host.toLowerCase()}`;
}

async function sendFile(res, root, relPath) {
  const file = resolve(root, `.${relPath}`);
  if (!file.startsWith(root + sep) || !TYPES[extname(file)]) throw new HTTPError(404, 'not found');
  let body;
  try {
    body = await readFile(file);
  } catch {
    throw new HTTPError(404, 'not found');
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)],
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function sendJSON(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPError(405, 'method not allowed');
  if (url.pathname === '/api/session') {
    return sendJSON(res, 200, await session(url.searchParams.get('scenario') ?? 'ok', originOf(req)));
  }
  if (url.pathname.startsWith('/vendor/openai/')) {
    return sendFile(res, openaiDir, url.pathname.slice('/vendor/openai'.length));
  }
  if (url.pathname === '/' || url.pathname === '/index.html') {
    res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
    return res.end(indexHTML);
  }
  if (url.pathname === '/openai-lite.js') throw new HTTPError(404, 'not found');
  return sendFile(res, pageDir, url.pathname);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    const status =
      err instanceof HTTPError
        ? err.status
        : err instanceof RelayAPIError && err.code === 'invalid_argument'
          ? 400
          : 500;
    if (status >= 500) console.error(`playground: ${req.method} ${req.url}: ${err.message}`);
    if (!res.headersSent) sendJSON(res, status, { error: { message: err.message } });
    else res.destroy();
  });
});

server.listen(settings.port, settings.host, () => {
  const { port } = server.address();
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  console.log(`RelayAPI playground listening on http://${host}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
