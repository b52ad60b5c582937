import { CompactEncrypt, CompactSign, base64url, calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import type { ClientOptions, OpenAI } from 'openai';
import { MAX_SAFE, JTI_RE, validateClaims, type Claims } from './claims.js';
import { RelayAPIError, invalidArgument, invalidConfig } from './errors.js';
import { parseKeys, serverURL, type KeyMaterial, type RaiFile } from './rai.js';

/** Tokens longer than this are refused (docs/token-format.md §5). */
export const MAX_TOKEN_BYTES = 8192;

export type Flavor = 'openai' | 'anthropic' | 'gemini';

export interface RelayAPIOptions {
  /** Admin key for `usage()` / `revoke()`; defaults to the `RELAYAPI_ADMIN_KEY` environment variable. */
  adminKey?: string;
  /**
   * Public URL of the relay (origin plus base path, e.g. `https://relay.example.com/ai`),
   * overriding the `.rai` `server` section.
   */
  relayURL?: string;
  /** `fetch` used for admin calls (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** Timeout of admin calls in milliseconds (default 30000; 0 = none). */
  timeout?: number;
  /** Receives warnings such as "aes_iv_seed is ignored" (default: `console.warn`). */
  onWarning?: (message: string) => void;
}

export interface CreateTokenOptions {
  /** Provider name configured on the relay (default `openai`). */
  provider?: string;
  /** The real upstream API key; omit it when the relay holds the credential. */
  apiKey?: string;
  /** Lifetime in seconds (default 3600). */
  expiresIn?: number;
  /** Total calls allowed. */
  maxCalls?: number;
  /** Allowed model patterns (`*` wildcard), e.g. `['gpt-4o*']`. */
  models?: string[];
  /** Allowed upstream path patterns, e.g. `['/v1/chat/*']`. */
  paths?: string[];
  /** Requests per minute. */
  rpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per-request clamp of `max_tokens`. */
  maxTokens?: number;
  /** Total tokens (prompt + completion) over the token's life. */
  tokenBudget?: number;
  /**
   * Longest realtime (WebSocket) session in seconds, 1 … 86400; when omitted the
   * relay's own maximum applies, and the smaller of the two wins.
   */
  maxSessionSeconds?: number;
  /** Allowed client IPs or CIDRs. */
  ips?: string[];
  /** Allowed browser origins (`https://app.example.com`, `https://*.example.com`, `*`). */
  origins?: string[];
  /** Rewrite the requested model before forwarding: `{ 'gpt-4': 'gpt-4o-mini' }`. */
  modelMap?: Record<string, string>;
  /** Free string metadata copied to the relay's logs. */
  meta?: Record<string, string>;
  /** End-user id. */
  sub?: string;
  /** Not valid before this time (a `Date` or seconds since the Unix epoch). */
  notBefore?: Date | number;
  /** Token id; default 16 random bytes, base64url (22 characters). */
  jti?: string;
  /** Extension claims; every name must start with `x_`. */
  extra?: Record<string, unknown>;
}

/** A minted token. */
export interface Token {
  /** The compact JWE to put in the URL or header. */
  value: string;
  /** The token id (`jti`), for `usage()` / `revoke()`. */
  id: string;
  /** When the token expires. */
  expiresAt: Date;
}

export interface BaseURLOptions {
  /** Which vendor SDK the URL is for (default `openai`): see docs/token-format.md §7. */
  flavor?: Flavor;
}

export type GenerateURLOptions = CreateTokenOptions & BaseURLOptions;

/** Options of `openai()`: the token plus anything the `OpenAI` constructor takes. */
export type OpenAIOptions = Omit<ClientOptions, 'baseURL'> & {
  /** A token from `createToken()` (or its value). When omitted a token is minted with `tokenOptions`. */
  token?: Token | string;
  /** Options for the token minted when `token` is omitted. */
  tokenOptions?: CreateTokenOptions;
  /** The `OpenAI` class to use, for bundlers that cannot resolve a dynamic `import('openai')`. */
  OpenAI?: new (options: ClientOptions) => OpenAI;
};

/** The relay's JSON answer for a token's usage (see the relay's admin API docs). */
export type TokenUsage = Record<string, unknown>;

const OPTION_TO_CLAIM: Record<keyof CreateTokenOptions, string> = {
  provider: 'provider',
  apiKey: 'api_key',
  expiresIn: 'exp',
  maxCalls: 'max_calls',
  models: 'models',
  paths: 'paths',
  rpm: 'rpm',
  concurrency: 'concurrency',
  maxTokens: 'max_tokens',
  tokenBudget: 'token_budget',
  maxSessionSeconds: 'max_session_seconds',
  ips: 'ips',
  origins: 'origins',
  modelMap: 'model_map',
  meta: 'meta',
  sub: 'sub',
  notBefore: 'nbf',
  jti: 'jti',
  extra: 'extra',
};
const CLAIM_TO_OPTION: Record<string, string> = Object.fromEntries(
  Object.entries(OPTION_TO_CLAIM).map(([o, c]) => [c, o]),
);
const optionName = (claim: string): string => {
  const base = /^[a-z_]+/.exec(claim)?.[0] ?? claim;
  if (base.startsWith('x_')) return `extra.${claim}`;
  const opt = CLAIM_TO_OPTION[base];
  return opt === undefined ? claim : opt + claim.slice(base.length);
};

type ProcessLike = { env?: Record<string, string | undefined>; versions?: { node?: string } };
const getProcess = (): ProcessLike | undefined => (globalThis as { process?: ProcessLike }).process;
const getEnv = (name: string): string | undefined => getProcess()?.env?.[name];

/** Imports a module by a name bundlers do not try to resolve at build time. */
const importDynamic = (name: string): Promise<unknown> => import(/* webpackIgnore: true */ /* @vite-ignore */ name);

let webCryptoReady: Promise<void> | undefined;
/** Node 18 has WebCrypto only as `require('node:crypto').webcrypto`: expose it as `globalThis.crypto`. */
function ensureWebCrypto(): Promise<void> {
  if (globalThis.crypto?.subtle) return Promise.resolve();
  webCryptoReady ??= (async () => {
    const mod = (await importDynamic('node:crypto')) as { webcrypto?: Crypto };
    if (!mod.webcrypto?.subtle) throw new RelayAPIError('invalid_config', 'no WebCrypto available in this runtime');
    Object.defineProperty(globalThis, 'crypto', { value: mod.webcrypto, configurable: true, writable: true });
  })();
  return webCryptoReady;
}

interface PreparedKeys {
  mint(payload: Uint8Array): Promise<string>;
  kid: string;
}

async function thumbprintKid(jwk: JWK): Promise<string> {
  const pub: JWK =
    jwk.kty === 'oct'
      ? { kty: 'oct', k: jwk.k as string }
      : { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
  return (await calculateJwkThumbprint(pub, 'sha256')).slice(0, 16);
}

async function prepare(keys: KeyMaterial): Promise<PreparedKeys> {
  await ensureWebCrypto();
  if (keys.method === 'aes') {
    const kid = keys.kid ?? (await thumbprintKid({ kty: 'oct', k: base64url.encode(keys.key) }));
    return {
      kid,
      mint: (payload) =>
        new CompactEncrypt(payload).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid }).encrypt(keys.key),
    };
  }
  const signerKid = keys.signerKid ?? (await thumbprintKid(keys.signing));
  const relayKid = keys.relayKid ?? (await thumbprintKid(keys.relay));
  let signKey: CryptoKey | Uint8Array;
  let relayKey: CryptoKey | Uint8Array;
  try {
    signKey = await importJWK(keys.signing, 'ES256');
    relayKey = await importJWK(keys.relay, 'ECDH-ES');
  } catch (e) {
    throw invalidConfig('cannot import the ecc keys (not valid P-256 keys)', e);
  }
  return {
    kid: signerKid,
    mint: async (payload) => {
      const jws = await new CompactSign(payload)
        .setProtectedHeader({ alg: 'ES256', kid: signerKid, typ: 'JWT' })
        .sign(signKey);
      return new CompactEncrypt(new TextEncoder().encode(jws))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT', kid: relayKid })
        .encrypt(relayKey);
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function randomJti(): string {
  return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

function tokenValue(token: Token | string, param = 'token'): string {
  const value = typeof token === 'string' ? token : isPlainObject(token) ? token.value : undefined;
  if (typeof value !== 'string' || value.length === 0 || !/^[A-Za-z0-9_.-]+$/.test(value)) {
    throw invalidArgument(param, 'must be a token from createToken() or its string value');
  }
  return value;
}

function tokenId(id: Token | string): string {
  const jti = typeof id === 'string' ? id : isPlainObject(id) ? id.id : undefined;
  if (typeof jti !== 'string' || !JTI_RE.test(jti)) {
    throw invalidArgument('id', 'must be a token id (jti) or a token from createToken()');
  }
  return jti;
}

function checkFlavor(flavor: unknown): Flavor {
  if (flavor === undefined) return 'openai';
  if (flavor !== 'openai' && flavor !== 'anthropic' && flavor !== 'gemini') {
    throw invalidArgument('flavor', `must be "openai", "anthropic" or "gemini", got ${JSON.stringify(flavor)}`);
  }
  return flavor;
}

/**
 * Encrypts a claims set as it is (validated first). Internal: the 1.x
 * `TokenGenerator.encryptToken` needs it; not exported from the package.
 */
export let mintClaims: (relay: RelayAPI, claims: Claims) => Promise<Token>;

/**
 * Mints RelayAPI tokens offline from a `.rai` key file and builds relay URLs.
 *
 * ```ts
 * const relay = await RelayAPI.fromFile('./default.rai');
 * const url = await relay.generateURL({ apiKey: process.env.OPENAI_API_KEY, maxCalls: 10 });
 * ```
 */
export class RelayAPI {
  /** `aes` or `ecc`. */
  readonly method: 'aes' | 'ecc';
  /** The relay's base URL: `{scheme}://{host}[:{port}]{base_path}`. */
  readonly relayURL: string;
  readonly #keys: KeyMaterial;
  readonly #options: RelayAPIOptions;
  #prepared: Promise<PreparedKeys> | undefined;

  /**
   * @param config a parsed `.rai` file (or its JSON text): the seed `aes` format or the
   *   `ecc` backend file written by `relayapi keygen --out`.
   */
  constructor(config: RaiFile | string, options: RelayAPIOptions = {}) {
    let rai: unknown = config;
    if (typeof config === 'string') {
      try {
        rai = JSON.parse(config);
      } catch (e) {
        throw invalidConfig('not valid JSON', e);
      }
    }
    const warn =
      options.onWarning ??
      ((m: string) => {
        console.warn(m);
      });
    this.#keys = parseKeys(rai, warn);
    this.method = this.#keys.method;
    if (options.relayURL !== undefined) {
      if (typeof options.relayURL !== 'string' || !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(options.relayURL)) {
        throw invalidArgument('relayURL', 'must be an http(s) URL without query or fragment');
      }
      this.relayURL = options.relayURL.replace(/\/+$/, '');
    } else {
      this.relayURL = serverURL((rai as { server?: unknown }).server);
    }
    this.#options = { ...options };
  }

  /** Loads a `.rai` file (Node, Deno and Bun; not on edge runtimes without a file system). */
  static async fromFile(path: string, options?: RelayAPIOptions): Promise<RelayAPI> {
    if (typeof path !== 'string' || path === '') throw invalidArgument('path', 'must be a file path');
    let text: string;
    try {
      const fs = (await importDynamic('node:fs/promises')) as { readFile(p: string, enc: 'utf8'): Promise<string> };
      text = await fs.readFile(path, 'utf8');
    } catch (e) {
      throw invalidConfig(`cannot read ${path}: ${(e as Error).message}`, e);
    }
    return new RelayAPI(text, options);
  }

  /**
   * Loads the `.rai` named by `RELAYAPI_RAI`: a file path, or the JSON itself (starting with `{`).
   * `env` defaults to `process.env`; pass your own object on runtimes without it.
   */
  static async fromEnv(
    options: RelayAPIOptions & { env?: Record<string, string | undefined> } = {},
  ): Promise<RelayAPI> {
    const { env, ...rest } = options;
    const raw = env ? env.RELAYAPI_RAI : getEnv('RELAYAPI_RAI');
    if (rest.adminKey === undefined && env?.RELAYAPI_ADMIN_KEY !== undefined) rest.adminKey = env.RELAYAPI_ADMIN_KEY;
    if (raw === undefined || raw.trim() === '') {
      throw new RelayAPIError('invalid_config', 'RELAYAPI_RAI is not set (a .rai file path or its JSON)');
    }
    return raw.trimStart().startsWith('{') ? new RelayAPI(raw, rest) : RelayAPI.fromFile(raw, rest);
  }

  /** The key id the tokens are minted with (`aes` key or `ecc` signer). */
  async keyId(): Promise<string> {
    return (await this.#keysReady()).kid;
  }

  #keysReady(): Promise<PreparedKeys> {
    this.#prepared ??= prepare(this.#keys);
    this.#prepared.catch(() => (this.#prepared = undefined));
    return this.#prepared;
  }

  /** Builds and validates the claims set `createToken` would encrypt (no crypto). */
  buildClaims(options: CreateTokenOptions = {}, now: Date = new Date()): Claims {
    if (!isPlainObject(options)) throw invalidArgument('options', 'must be an object');
    for (const key of Object.keys(options)) {
      if (!(key in OPTION_TO_CLAIM)) {
        const hint = Object.keys(OPTION_TO_CLAIM).find((o) => OPTION_TO_CLAIM[o as keyof CreateTokenOptions] === key);
        throw invalidArgument(key, `unknown option${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    }
    const o = options;
    const iat = Math.floor(now.getTime() / 1000);
    const expiresIn = o.expiresIn === undefined ? 3600 : o.expiresIn;
    if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || iat + expiresIn > MAX_SAFE) {
      throw invalidArgument(
        'expiresIn',
        `must be a whole number of seconds ≥ 1, got ${typeof expiresIn === 'number' ? String(expiresIn) : (JSON.stringify(expiresIn) ?? typeof expiresIn)}`,
      );
    }
    const jti = o.jti === undefined ? randomJti() : o.jti;
    const claims: Record<string, unknown> = {
      jti,
      iat,
      exp: iat + expiresIn,
      provider: o.provider === undefined ? 'openai' : o.provider,
    };
    if (o.notBefore !== undefined) {
      const nb = o.notBefore;
      if (nb instanceof Date) {
        if (Number.isNaN(nb.getTime())) throw invalidArgument('notBefore', 'is an invalid Date');
        claims.nbf = Math.floor(nb.getTime() / 1000);
      } else {
        claims.nbf = nb;
      }
    }
    const direct: [keyof CreateTokenOptions, string][] = [
      ['sub', 'sub'],
      ['apiKey', 'api_key'],
      ['maxCalls', 'max_calls'],
      ['models', 'models'],
      ['paths', 'paths'],
      ['rpm', 'rpm'],
      ['concurrency', 'concurrency'],
      ['maxTokens', 'max_tokens'],
      ['tokenBudget', 'token_budget'],
      ['maxSessionSeconds', 'max_session_seconds'],
      ['ips', 'ips'],
      ['origins', 'origins'],
      ['modelMap', 'model_map'],
      ['meta', 'meta'],
    ];
    for (const [opt, claim] of direct) {
      if (o[opt] !== undefined) claims[claim] = o[opt];
    }
    if (o.extra !== undefined) {
      if (!isPlainObject(o.extra)) throw invalidArgument('extra', 'must be an object of x_… claims');
      for (const [k, v] of Object.entries(o.extra)) {
        if (!k.startsWith('x_')) throw invalidArgument(`extra.${k}`, 'extension claim names must start with "x_"');
        if (v === undefined) continue;
        let json: string | undefined;
        try {
          json = JSON.stringify(v);
        } catch {
          json = undefined;
        }
        if (json === undefined) throw invalidArgument(`extra.${k}`, 'must be a JSON value');
        claims[k] = JSON.parse(json) as unknown;
      }
    }
    validateClaims(claims, optionName);
    return claims;
  }

  /** Mints a token. Every option is validated (throwing `RelayAPIError` `invalid_argument`) before encrypting. */
  async createToken(options: CreateTokenOptions = {}): Promise<Token> {
    return this.#mint(this.buildClaims(options));
  }

  static {
    mintClaims = (relay, claims) => {
      validateClaims(claims);
      return relay.#mint(claims);
    };
  }

  async #mint(claims: Claims): Promise<Token> {
    const keys = await this.#keysReady();
    const value = await keys.mint(new TextEncoder().encode(JSON.stringify(claims)));
    if (value.length > MAX_TOKEN_BYTES) {
      throw new RelayAPIError(
        'token_too_large',
        `the token is ${value.length} bytes, more than ${MAX_TOKEN_BYTES}: use fewer or shorter models/paths/ips/origins/meta`,
      );
    }
    return { value, id: claims.jti, expiresAt: new Date(claims.exp * 1000) };
  }

  /**
   * The base URL a vendor SDK expects, with the token in the path:
   * `openai` → `{relay}/t/{token}/v1`, `anthropic` and `gemini` → `{relay}/t/{token}`.
   */
  baseURL(token: Token | string, options: BaseURLOptions | Flavor = {}): string {
    const flavor = checkFlavor(typeof options === 'string' ? options : options?.flavor);
    const url = `${this.relayURL}/t/${tokenValue(token)}`;
    return flavor === 'openai' ? `${url}/v1` : url;
  }

  /** Mints a token and returns its base URL in one step. */
  async generateURL(options: GenerateURLOptions = {}): Promise<string> {
    const { flavor, ...tokenOptions } = options;
    const f = checkFlavor(flavor);
    return this.baseURL(await this.createToken(tokenOptions), { flavor: f });
  }

  /** Usage of a token so far: `GET {relay}/admin/tokens/{jti}`. */
  async usage(id: Token | string): Promise<TokenUsage> {
    return (await this.#admin('GET', `/admin/tokens/${encodeURIComponent(tokenId(id))}`)) as TokenUsage;
  }

  /** Revokes a token at the relay: `POST {relay}/admin/tokens/{jti}/revoke`. */
  async revoke(id: Token | string): Promise<Record<string, unknown>> {
    return (await this.#admin('POST', `/admin/tokens/${encodeURIComponent(tokenId(id))}/revoke`)) as Record<
      string,
      unknown
    >;
  }

  async #admin(method: string, path: string): Promise<unknown> {
    const key = this.#options.adminKey ?? getEnv('RELAYAPI_ADMIN_KEY');
    if (!key) {
      throw new RelayAPIError('missing_admin_key', 'no admin key: pass { adminKey } or set RELAYAPI_ADMIN_KEY');
    }
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    if (typeof doFetch !== 'function')
      throw new RelayAPIError('network_error', 'no fetch() in this runtime: pass { fetch }');
    const timeout = this.#options.timeout ?? 30_000;
    const url = this.relayURL + path;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' },
        ...(timeout > 0 && typeof AbortSignal.timeout === 'function' ? { signal: AbortSignal.timeout(timeout) } : {}),
      });
    } catch (e) {
      throw new RelayAPIError('network_error', `${method} ${url} failed: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const err = isPlainObject(body) && isPlainObject(body.error) ? body.error : {};
      const code = typeof err.code === 'string' && err.code !== '' ? err.code : 'http_error';
      const message = typeof err.message === 'string' && err.message !== '' ? err.message : `HTTP ${res.status}`;
      const opts: { status: number; type?: string } = { status: res.status };
      if (typeof err.type === 'string') opts.type = err.type;
      throw new RelayAPIError(code, `${method} ${path}: ${message}`, opts);
    }
    if (text !== '' && body === undefined) {
      throw new RelayAPIError('http_error', `${method} ${path}: the relay answered non-JSON`, { status: res.status });
    }
    return body ?? {};
  }

  /**
   * An `OpenAI` client (official `openai` package, an optional peer dependency)
   * pointed at the relay. Async because `openai` is imported on demand.
   */
  async openai(options: OpenAIOptions = {}): Promise<OpenAI> {
    const { token, tokenOptions, OpenAI: Klass, ...clientOptions } = options;
    const value = token === undefined ? (await this.createToken(tokenOptions)).value : tokenValue(token);
    let Ctor = Klass;
    if (Ctor === undefined) {
      try {
        const mod = (await importDynamic('openai')) as { OpenAI?: typeof Ctor; default?: typeof Ctor };
        Ctor = mod.OpenAI ?? mod.default;
      } catch (e) {
        throw new RelayAPIError('missing_dependency', 'relay.openai() needs the "openai" package: npm install openai', {
          cause: e,
        });
      }
      if (Ctor === undefined)
        throw new RelayAPIError('missing_dependency', 'the "openai" package has no OpenAI export');
    }
    return new Ctor({ apiKey: value, ...clientOptions, baseURL: this.baseURL(value, { flavor: 'openai' }) });
  }
}
