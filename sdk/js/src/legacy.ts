// The RelayAPI 1.x backend API (npm `relayapi-sdk`): `RelayAPIClient` and
// `TokenGenerator`, as thin deprecated wrappers over `RelayAPI`. They mint this
// relay's JWE tokens (never the 1.x format) and build path-token URLs.
import { utf8Length, type Claims } from './claims.js';
import { RelayAPIError, invalidArgument, invalidConfig } from './errors.js';
import type { RaiFile } from './rai.js';
import { RelayAPI, mintClaims, type CreateTokenOptions, type RelayAPIOptions, type Token } from './relayapi.js';

/** A `.rai` key file: its path, its JSON text, or the parsed object (1.x form or current). */
export type LegacyConfig = RaiFile | string;

/** Options of the 1.x `createToken`. */
export interface LegacyTokenOptions {
  /** The real upstream API key; omit it when the relay holds the credential. */
  apiKey?: string;
  /** Total calls allowed (default 100). */
  maxCalls?: number;
  /** Lifetime in days (default 1). Give this or `expireSeconds`, not both. */
  expireDays?: number;
  /** Lifetime in seconds. Give this or `expireDays`, not both. */
  expireSeconds?: number;
  /** Provider name configured on the relay (default `dashscope`, as in 1.x). */
  provider?: string;
  /**
   * 1.x free-form extra info. A JSON object: `rep_m` (a model name) becomes
   * `modelMap: { '*': rep_m }` (every request goes to that model), every other key
   * goes to `meta`. Any other non-empty text becomes `meta.ext_info`.
   */
  extInfo?: string | Record<string, unknown>;
}

/** A token as `chat`/`generateImage`/`createEmbedding` take it: awaited if it is a promise. */
export type LegacyTokenInput = string | Token | PromiseLike<string | Token>;

/** Options of the 1.x `chat`. */
export interface LegacyChatOptions {
  messages: unknown[];
  /** Default `gpt-3.5-turbo`. */
  model?: string;
  /** Default 0.7. */
  temperature?: number;
  /** Sent as `max_tokens`, default 1000. */
  maxTokens?: number;
  token: LegacyTokenInput;
  /** `true`: the result is an async iterable of the parsed SSE chunks (`chat.completion.chunk`). */
  stream?: boolean;
}

/** Options of the 1.x `generateImage`. */
export interface LegacyImageOptions {
  prompt: string;
  /** Default `dall-e-3`. */
  model?: string;
  /** Default `1024x1024`. */
  size?: string;
  /** Default `standard`. */
  quality?: string;
  /** Default 1. */
  n?: number;
  token: LegacyTokenInput;
}

/** Options of the 1.x `createEmbedding`. */
export interface LegacyEmbeddingOptions {
  input: unknown;
  /** Default `text-embedding-ada-002`. */
  model?: string;
  token: LegacyTokenInput;
}

/** A parsed JSON answer of the relay or the provider. */
export type LegacyResponse = Record<string, unknown>;

type ProcessLike = {
  emitWarning?: (message: string, options: { type: string; code: string }) => void;
  getBuiltinModule?: (id: string) => unknown;
};
const getProcess = (): ProcessLike | undefined => (globalThis as { process?: ProcessLike }).process;

const MIGRATION_DOC = 'docs/migrating-from-1.x.md';
const SEEN = Symbol.for('relayapi.deprecated-1x');

/** One DeprecationWarning per name per process (shared by the ESM and CJS builds). */
function deprecated(name: string, message: string): void {
  const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  const seen = (g[SEEN] ??= new Set<string>());
  const code = `RELAYAPI_1X_${name}`;
  if (seen.has(code)) return;
  seen.add(code);
  const text = `${message} (RelayAPI 1.x API; see ${MIGRATION_DOC})`;
  const proc = getProcess();
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(text, { type: 'DeprecationWarning', code });
  else console.warn(`DeprecationWarning [${code}]: ${text}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

type FsSync = { readFileSync(path: string, encoding: 'utf8'): string };

/** `node:fs` without a static import (the core entry stays runtime-neutral); Node ≥ 20.16, Bun, Deno. */
function syncFs(): FsSync | undefined {
  try {
    const fs = getProcess()?.getBuiltinModule?.('node:fs') as Partial<FsSync> | undefined;
    return typeof fs?.readFileSync === 'function' ? (fs as FsSync) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens a 1.x config: synchronously when possible (like 1.x), else (Node < 20.16)
 * the file is read in the background and the async methods wait for it.
 */
function openConfig(config: unknown, options: RelayAPIOptions, who: string): RelayAPI | Promise<RelayAPI> {
  if (typeof config === 'string' && config.trimStart().startsWith('{')) return new RelayAPI(config, options);
  if (typeof config === 'string' && config !== '') {
    const fs = syncFs();
    if (fs === undefined) {
      const pending = RelayAPI.fromFile(config, options);
      pending.catch(() => undefined); // reported by the first call that needs it
      return pending;
    }
    let text: string;
    try {
      text = fs.readFileSync(config, 'utf8');
    } catch (e) {
      const missing = (e as { code?: unknown }).code === 'ENOENT';
      throw invalidConfig(
        `cannot read ${config}: ${(e as Error).message}${missing ? ' (make a key file with: relayapi keygen --method aes --out default.rai)' : ''}`,
        e,
      );
    }
    return new RelayAPI(text, options);
  }
  if (isPlainObject(config)) return new RelayAPI(config as RaiFile, options);
  throw invalidArgument(
    'config',
    `new ${who}(config) needs a .rai file path or its parsed object (there is no built-in default key: the 1.x one was public)`,
  );
}

/** Replaces a pending load by its result once read (errors are reported by the calls). */
function whenLoaded(relay: RelayAPI | Promise<RelayAPI>, set: (relay: RelayAPI) => void): void {
  if (relay instanceof Promise) relay.then(set, () => undefined);
}

function loaded(relay: RelayAPI | Promise<RelayAPI>, method: string): RelayAPI {
  if (relay instanceof RelayAPI) return relay;
  throw new RelayAPIError(
    'invalid_config',
    `${method}(): the .rai file is still being read (this runtime has no synchronous file read): await client.createToken() or client.healthCheck() first, or pass the parsed .rai object`,
  );
}

const LEGACY_TOKEN_OPTIONS = ['apiKey', 'maxCalls', 'expireDays', 'expireSeconds', 'provider', 'extInfo'];

/** `extInfo` of 1.x → `modelMap` / `meta` (issue 17 contract §2). */
export function extInfoOptions(extInfo: unknown): Pick<CreateTokenOptions, 'modelMap' | 'meta'> {
  if (extInfo === undefined || extInfo === null || extInfo === '') return {};
  let fields: Record<string, unknown> | undefined;
  if (typeof extInfo === 'string') {
    try {
      const parsed = JSON.parse(extInfo) as unknown;
      if (isPlainObject(parsed)) fields = parsed;
    } catch {
      // free text
    }
    if (fields === undefined) {
      const n = utf8Length(extInfo);
      if (n > 256) {
        throw invalidArgument(
          'extInfo',
          `text that is not a JSON object goes to meta.ext_info: at most 256 bytes, got ${n}`,
        );
      }
      return { meta: { ext_info: extInfo } };
    }
  } else if (isPlainObject(extInfo)) {
    fields = extInfo;
  } else {
    throw invalidArgument('extInfo', `must be a string (free text or a JSON object), got ${typeof extInfo}`);
  }
  const out: Pick<CreateTokenOptions, 'modelMap' | 'meta'> = {};
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'rep_m') {
      if (value === '' || value === null || value === undefined) continue; // 1.x: no replacement
      if (typeof value !== 'string' || utf8Length(value) > 256) {
        throw invalidArgument('extInfo', 'rep_m must be a model name (a string of 1–256 bytes)');
      }
      out.modelMap = { '*': value };
      continue;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text === undefined) continue; // undefined or a function in an object literal
    const kn = utf8Length(key);
    if (kn < 1 || kn > 64) {
      throw invalidArgument('extInfo', `key ${JSON.stringify(key)} must be 1–64 bytes long to go to meta, got ${kn}`);
    }
    const vn = utf8Length(text);
    if (vn < 1 || vn > 256) {
      throw invalidArgument(
        'extInfo',
        `the value of ${JSON.stringify(key)} must be 1–256 bytes long to go to meta, got ${vn}`,
      );
    }
    meta[key] = text;
  }
  const count = Object.keys(meta).length;
  if (count > 32) throw invalidArgument('extInfo', `at most 32 keys (besides rep_m) go to meta, got ${count}`);
  if (count > 0) out.meta = meta;
  return out;
}

/** 1.x `createToken` options → `RelayAPI.createToken` options. */
export function legacyTokenOptions(options: unknown): CreateTokenOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw invalidArgument('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!LEGACY_TOKEN_OPTIONS.includes(key)) {
      throw invalidArgument(
        key,
        `unknown option of the 1.x createToken (${LEGACY_TOKEN_OPTIONS.join(', ')}); the 2.x options are on RelayAPI.createToken`,
      );
    }
  }
  const o = options as LegacyTokenOptions;
  let expiresIn = 86_400;
  if (o.expireDays !== undefined && o.expireSeconds !== undefined) {
    throw invalidArgument('expireSeconds', 'give expireDays or expireSeconds, not both');
  }
  if (o.expireDays !== undefined) {
    const days: unknown = o.expireDays;
    if (typeof days !== 'number' || !Number.isFinite(days) || Math.round(days * 86_400) < 1) {
      throw invalidArgument('expireDays', `must be a number of days > 0, got ${JSON.stringify(days) ?? typeof days}`);
    }
    expiresIn = Math.round(days * 86_400);
  }
  if (o.expireSeconds !== undefined) {
    const secs: unknown = o.expireSeconds;
    if (typeof secs !== 'number' || !Number.isInteger(secs) || secs < 1) {
      throw invalidArgument(
        'expireSeconds',
        `must be a whole number of seconds ≥ 1, got ${JSON.stringify(secs) ?? typeof secs}`,
      );
    }
    expiresIn = secs;
  }
  const out: CreateTokenOptions = {
    provider: o.provider === undefined ? 'dashscope' : o.provider,
    expiresIn,
    maxCalls: o.maxCalls === undefined ? 100 : o.maxCalls,
    ...extInfoOptions(o.extInfo),
  };
  if (o.apiKey !== undefined) out.apiKey = o.apiKey;
  return out;
}

const isJwe = (v: unknown): v is string => typeof v === 'string' && v.split('.').length === 5;

function tokenString(v: unknown): unknown {
  return isPlainObject(v) && typeof v.value === 'string' ? v.value : v;
}

/** The path-token URL for a 1.x `generateUrl(endpoint, token)` or `generateUrl(token, endpoint?)`. */
function legacyURL(relay: RelayAPI, first: unknown, second: unknown): string {
  const a = tokenString(first);
  const b = tokenString(second);
  let token: unknown;
  let endpoint: unknown;
  if (b === undefined || b === null) [token, endpoint] = [a, undefined];
  else if (isJwe(a) && !isJwe(b)) [token, endpoint] = [a, b];
  else if (isJwe(b) && !isJwe(a)) [token, endpoint] = [b, a];
  else {
    throw invalidArgument(
      'token',
      'generateUrl() takes a token from createToken() (5 dot-separated parts) and optionally an endpoint such as "v1/chat/completions"',
    );
  }
  if (!isJwe(token)) {
    throw invalidArgument(
      'token',
      'is not a RelayAPI 2.x token (5 dot-separated parts): mint it with `await client.createToken(...)`; 1.x tokens are not accepted',
    );
  }
  const base = relay.baseURL(token); // {relay}/t/{token}/v1
  if (endpoint === undefined || endpoint === null || endpoint === '') return base;
  if (typeof endpoint !== 'string' || /[\s?#]/.test(endpoint) || /(^|\/)\.\.?(\/|$)/.test(endpoint)) {
    throw invalidArgument(
      'endpoint',
      `must be an API path such as "v1/chat/completions", got ${JSON.stringify(endpoint)}`,
    );
  }
  const path = endpoint.replace(/^\/+/, '');
  if (path === 'v1' || path.startsWith('v1/')) return `${relay.relayURL}/t/${token}/${path}`;
  return `${base}/${path}`;
}

async function awaitToken(token: unknown): Promise<string> {
  const value = tokenString(await token);
  if (value === undefined || value === null || value === '') {
    throw invalidArgument('token', 'is required: pass the token from createToken()');
  }
  if (!isJwe(value)) {
    throw invalidArgument(
      'token',
      'is not a RelayAPI 2.x token (5 dot-separated parts): mint it with createToken() of this SDK; 1.x tokens are not accepted',
    );
  }
  return value;
}

/** Reads a relay/provider error answer into a RelayAPIError with its code. */
async function httpError(res: Response, what: string): Promise<RelayAPIError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  const err = isPlainObject(body) && isPlainObject(body.error) ? body.error : {};
  const code = typeof err.code === 'string' && err.code !== '' ? err.code : 'http_error';
  const message = typeof err.message === 'string' && err.message !== '' ? err.message : `HTTP ${res.status}`;
  const opts: { status: number; type?: string } = { status: res.status };
  if (typeof err.type === 'string') opts.type = err.type;
  return new RelayAPIError(code, `${what} failed: ${message}`, opts);
}

async function send(
  doFetch: typeof fetch,
  url: string,
  what: string,
  init: { method: string; body?: unknown; stream?: boolean },
): Promise<Response> {
  const headers: Record<string, string> = {
    Accept: init.stream ? 'text/event-stream' : 'application/json',
  };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await doFetch(url, {
      method: init.method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (e) {
    // No URL in the message: it carries the token.
    throw new RelayAPIError('network_error', `${what} failed: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw await httpError(res, what);
  return res;
}

async function json(res: Response, what: string): Promise<LegacyResponse> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as unknown;
    if (isPlainObject(body)) return body;
  } catch {
    // below
  }
  throw new RelayAPIError('http_error', `${what} failed: the answer is not a JSON object`, { status: res.status });
}

/** The `data:` events of a chat completion stream, parsed, up to `[DONE]`. */
async function* sseChunks(res: Response, what: string): AsyncGenerator<LegacyResponse, void, undefined> {
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    yield await json(res, what); // a provider that ignored stream: true
    return;
  }
  if (res.body === null) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  const dispatch = (): LegacyResponse | 'done' | undefined => {
    if (data.length === 0) return undefined;
    const text = data.join('\n');
    const name = event;
    data = [];
    event = '';
    if (text.trim() === '[DONE]') return 'done';
    let chunk: unknown;
    try {
      chunk = JSON.parse(text) as unknown;
    } catch {
      throw new RelayAPIError('http_error', `${what} failed: the stream sent data that is not JSON`);
    }
    if (!isPlainObject(chunk)) throw new RelayAPIError('http_error', `${what} failed: the stream sent non-object data`);
    if (isPlainObject(chunk.error) && (name === 'error' || chunk.choices === undefined)) {
      const e = chunk.error;
      const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'http_error';
      const message = typeof e.message === 'string' ? e.message : 'error event in the stream';
      throw new RelayAPIError(code, `${what} failed: ${message}`);
    }
    return chunk;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (done) buffer += '\n\n';
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          const chunk = dispatch();
          if (chunk === 'done') return;
          if (chunk !== undefined) yield chunk;
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(val);
          else if (field === 'event') event = val;
        }
      }
      if (done) return;
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/**
 * The RelayAPI 1.x client (npm `relayapi-sdk`), kept so 1.x backend code runs
 * against this relay with only the package upgraded. It mints this relay's
 * tokens (JWE) and uses path-token URLs `{relay}/t/{token}/v1/…`.
 *
 * Differences from 1.x: `createToken` returns a `Promise<string>` (`chat`,
 * `generateImage` and `createEmbedding` also take that promise; `generateUrl`
 * needs the awaited string), errors are `RelayAPIError`, and there is no
 * built-in default key.
 *
 * @deprecated Use {@link RelayAPI}: `new RelayAPI(config)` / `await RelayAPI.fromFile(path)`,
 * `relay.createToken()`, `relay.baseURL(token)` and the official `openai` client.
 */
export class RelayAPIClient {
  #relay: RelayAPI | Promise<RelayAPI>;
  readonly #fetch: typeof fetch | undefined;

  /**
   * @param config the `.rai` file path, its JSON text, or the parsed object.
   * @param options as for `new RelayAPI(config, options)`; `fetch` is also used for the HTTP calls.
   * @deprecated Use `new RelayAPI(config)` or `await RelayAPI.fromFile(path)`.
   */
  constructor(config: LegacyConfig, options: RelayAPIOptions = {}) {
    deprecated(
      'RELAYAPICLIENT',
      'new RelayAPIClient(config) is deprecated: use new RelayAPI(config) or await RelayAPI.fromFile(path)',
    );
    this.#relay = openConfig(config, options, 'RelayAPIClient');
    whenLoaded(this.#relay, (relay) => (this.#relay = relay));
    this.#fetch = options.fetch;
  }

  #doFetch(): typeof fetch {
    const f = this.#fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new RelayAPIError('network_error', 'no fetch() in this runtime: pass { fetch }');
    return f;
  }

  /**
   * Mints a token (a JWE for this relay). Async since 2.0: `await` it, or pass the
   * promise straight to `chat` / `generateImage` / `createEmbedding`.
   * @deprecated Use `(await relay.createToken({ provider, apiKey, expiresIn, maxCalls })).value`.
   */
  async createToken(options: LegacyTokenOptions = {}): Promise<string> {
    deprecated(
      'CREATETOKEN',
      'RelayAPIClient.createToken() is deprecated: use (await relay.createToken(options)).value',
    );
    const tokenOptions = legacyTokenOptions(options);
    return (await (await this.#relay).createToken(tokenOptions)).value;
  }

  /**
   * The URL for a token: `{relay}/t/{token}/v1`, or with an endpoint
   * `{relay}/t/{token}/v1/chat/completions`. Takes `(token, endpoint?)` or the 1.x
   * order `(endpoint, token)`; endpoints may start with `v1/` (1.x) or not.
   * @deprecated Use `relay.baseURL(token)`.
   */
  generateUrl(token: string | Token, endpoint?: string): string;
  /**
   * The 1.x argument order: `generateUrl('v1/chat/completions', token)`.
   * @deprecated Use `relay.baseURL(token)`.
   */
  generateUrl(endpoint: string, token: string | Token): string;
  generateUrl(first: string | Token, second?: string | Token): string {
    deprecated('GENERATEURL', 'RelayAPIClient.generateUrl() is deprecated: use relay.baseURL(token)');
    if (isThenable(first) || isThenable(second)) {
      throw new TypeError(
        'generateUrl() needs the token string but got a Promise: createToken() is async since relayapi 2.0, use `const token = await client.createToken({ ... })`',
      );
    }
    return legacyURL(loaded(this.#relay, 'generateUrl'), first, second);
  }

  /**
   * `GET {relay}/health` (under the base path): the relay's status JSON.
   * @deprecated Fetch `${relay.relayURL}/health` yourself.
   */
  async healthCheck(): Promise<LegacyResponse> {
    deprecated('HEALTHCHECK', 'RelayAPIClient.healthCheck() is deprecated: fetch `${relay.relayURL}/health` yourself');
    const relay = await this.#relay;
    const what = 'Health check';
    return json(await send(this.#doFetch(), `${relay.relayURL}/health`, what, { method: 'GET' }), what);
  }

  /**
   * `POST /v1/chat/completions` with `{ messages, model, temperature, max_tokens }`.
   * With `stream: true` the result is an async iterable of the parsed SSE chunks
   * (ending at `[DONE]`): `for await (const chunk of await client.chat({ ..., stream: true }))`.
   * @deprecated Use the official `openai` client: `(await relay.openai({ token })).chat.completions.create(...)`.
   */
  chat(options: LegacyChatOptions & { stream: true }): Promise<AsyncIterable<LegacyResponse>>;
  /**
   * `POST /v1/chat/completions`: the parsed `chat.completion`.
   * @deprecated Use the official `openai` client: `(await relay.openai({ token })).chat.completions.create(...)`.
   */
  chat(options: LegacyChatOptions & { stream?: false }): Promise<LegacyResponse>;
  /**
   * `POST /v1/chat/completions`: the parsed answer, or with `stream: true` an async iterable of the chunks.
   * @deprecated Use the official `openai` client: `(await relay.openai({ token })).chat.completions.create(...)`.
   */
  chat(options: LegacyChatOptions): Promise<LegacyResponse | AsyncIterable<LegacyResponse>>;
  async chat(options: LegacyChatOptions): Promise<LegacyResponse | AsyncIterable<LegacyResponse>> {
    deprecated(
      'CHAT',
      'RelayAPIClient.chat() is deprecated: use the official openai client, (await relay.openai({ token })).chat.completions.create(...)',
    );
    if (!isPlainObject(options)) throw invalidArgument('options', 'must be an object');
    const { messages, model = 'gpt-3.5-turbo', temperature = 0.7, maxTokens = 1000, token, stream } = options;
    const relay = await this.#relay;
    const url = legacyURL(relay, await awaitToken(token), 'v1/chat/completions');
    const what = 'Chat request';
    const body: Record<string, unknown> = { messages, model, temperature, max_tokens: maxTokens };
    if (stream === true) body.stream = true;
    const res = await send(this.#doFetch(), url, what, { method: 'POST', body, stream: stream === true });
    return stream === true ? sseChunks(res, what) : json(res, what);
  }

  /**
   * `POST /v1/images/generations` with `{ prompt, model, size, quality, n }`.
   * @deprecated Use the official `openai` client: `client.images.generate(...)`.
   */
  async generateImage(options: LegacyImageOptions): Promise<LegacyResponse> {
    deprecated(
      'GENERATEIMAGE',
      'RelayAPIClient.generateImage() is deprecated: use the official openai client, (await relay.openai({ token })).images.generate(...)',
    );
    if (!isPlainObject(options)) throw invalidArgument('options', 'must be an object');
    const { prompt, model = 'dall-e-3', size = '1024x1024', quality = 'standard', n = 1, token } = options;
    const relay = await this.#relay;
    const url = legacyURL(relay, await awaitToken(token), 'v1/images/generations');
    const what = 'Image generation';
    const body = { prompt, model, size, quality, n };
    return json(await send(this.#doFetch(), url, what, { method: 'POST', body }), what);
  }

  /**
   * `POST /v1/embeddings` with `{ input, model }`.
   * @deprecated Use the official `openai` client: `client.embeddings.create(...)`.
   */
  async createEmbedding(options: LegacyEmbeddingOptions): Promise<LegacyResponse> {
    deprecated(
      'CREATEEMBEDDING',
      'RelayAPIClient.createEmbedding() is deprecated: use the official openai client, (await relay.openai({ token })).embeddings.create(...)',
    );
    if (!isPlainObject(options)) throw invalidArgument('options', 'must be an object');
    const { input, model = 'text-embedding-ada-002', token } = options;
    const relay = await this.#relay;
    const url = legacyURL(relay, await awaitToken(token), 'v1/embeddings');
    const what = 'Embedding creation';
    return json(await send(this.#doFetch(), url, what, { method: 'POST', body: { input, model } }), what);
  }
}

/**
 * The RelayAPI 1.x token generator, over `RelayAPI`: `createToken` returns the
 * claims this SDK would mint, `encryptToken` mints them (a JWE for this relay).
 *
 * @deprecated Use {@link RelayAPI}: `relay.buildClaims(options)`, `relay.createToken(options)`, `relay.relayURL`.
 */
export class TokenGenerator {
  #relay: RelayAPI | Promise<RelayAPI>;

  /**
   * @param config the `.rai` file path, its JSON text, or the parsed object.
   * @deprecated Use `new RelayAPI(config)` or `await RelayAPI.fromFile(path)`.
   */
  constructor(config: LegacyConfig, options: RelayAPIOptions = {}) {
    deprecated(
      'TOKENGENERATOR',
      'new TokenGenerator(config) is deprecated: use new RelayAPI(config) or await RelayAPI.fromFile(path)',
    );
    this.#relay = openConfig(config, options, 'TokenGenerator');
    whenLoaded(this.#relay, (relay) => (this.#relay = relay));
  }

  /**
   * The claims of a token for these 1.x options (`jti`, `iat`, `exp`, `provider`,
   * `api_key`, `max_calls`, `model_map`/`meta` from `extInfo`); nothing is encrypted.
   * @deprecated Use `relay.buildClaims(options)`.
   */
  createToken(options: LegacyTokenOptions = {}): Claims {
    deprecated(
      'TOKENGENERATOR_CREATETOKEN',
      'TokenGenerator.createToken() is deprecated: use relay.buildClaims(options)',
    );
    const tokenOptions = legacyTokenOptions(options);
    return loaded(this.#relay, 'createToken').buildClaims(tokenOptions);
  }

  /**
   * Encrypts claims from `createToken()` into a token (async since 2.0).
   * @deprecated Use `(await relay.createToken(options)).value`.
   */
  async encryptToken(data: Claims): Promise<string> {
    deprecated(
      'ENCRYPTTOKEN',
      'TokenGenerator.encryptToken() is deprecated: use (await relay.createToken(options)).value',
    );
    if (isPlainObject(data) && ['expire_time', 'ext_info', 'created_at'].some((k) => k in data)) {
      throw invalidArgument(
        'data',
        'is RelayAPI 1.x token data: pass what TokenGenerator.createToken() of this SDK returns (the 1.x token format is not accepted by this relay)',
      );
    }
    return (await mintClaims(await this.#relay, data)).value;
  }

  /**
   * `{relay}/{path}`: the relay's base URL (with its base path) joined with `path`.
   * @deprecated Use `relay.relayURL`.
   */
  getServerUrl(path = ''): string {
    deprecated('GETSERVERURL', 'TokenGenerator.getServerUrl() is deprecated: use relay.relayURL');
    if (typeof path !== 'string' || /[\s?#]/.test(path)) throw invalidArgument('path', 'must be a URL path');
    return `${loaded(this.#relay, 'getServerUrl').relayURL}/${path.replace(/^\/+/, '')}`;
  }
}
