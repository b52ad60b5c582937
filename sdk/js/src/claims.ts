import { RelayAPIError } from './errors.js';
import { isIPOrCIDR, isIPv6 } from './ip.js';

/** The claims set carried inside a token (wire names, see docs/token-format.md §4). */
export interface Claims {
  jti: string;
  exp: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  provider: string;
  api_key?: string;
  max_calls?: number;
  models?: string[];
  paths?: string[];
  rpm?: number;
  concurrency?: number;
  max_tokens?: number;
  token_budget?: number;
  /** Longest realtime (WebSocket) session in seconds; the relay's own maximum applies when absent. */
  max_session_seconds?: number;
  ips?: string[];
  origins?: string[];
  model_map?: Record<string, string>;
  meta?: Record<string, string>;
  /** Extension claims: ignored by the relay, preserved by `inspect`. */
  [extension: `x_${string}`]: unknown;
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53-1
export const JTI_RE = /^[A-Za-z0-9._:-]{16,128}$/;
export const PROVIDER_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const KID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const API_KEY_RE = /^[\x21-\x7e]{1,4096}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Length in UTF-8 bytes. The spec's "characters" are counted as the relay
 * counts them (Go's `len`), so an SDK never mints what the relay rejects.
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Maps a claim name to the name used in error messages (an option name when minting). */
export type NameOf = (claim: string) => string;
const identity: NameOf = (c) => c;

type Fail = (claim: string, message: string) => never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? 'a string' : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function checkInt(fail: Fail, claim: string, v: unknown, min: number, max: number, maxText: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(claim, `must be an integer between ${min} and ${maxText}, got ${describe(v)}`);
  }
}

function checkString(fail: Fail, claim: string, v: unknown, min: number, max: number, what = 'a string'): string {
  if (typeof v !== 'string') fail(claim, `must be ${what}, got ${describe(v)}`);
  const s = v;
  const n = utf8Length(s);
  if (n < min || n > max) fail(claim, `must be ${min}–${max} bytes long (UTF-8), got ${n}`);
  if (LONE_SURROGATE.test(s)) fail(claim, 'must be valid Unicode (lone surrogate)');
  return s;
}

function checkArray(fail: Fail, claim: string, v: unknown, each: (item: unknown, i: number) => void): void {
  if (!Array.isArray(v)) fail(claim, `must be an array of strings, got ${describe(v)}`);
  const a = v as unknown[];
  if (a.length < 1 || a.length > 100) {
    fail(claim, `must have 1–100 entries, got ${a.length}${a.length === 0 ? ' (omit it for no restriction)' : ''}`);
  }
  a.forEach(each);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkStringMap(
  fail: Fail,
  claim: string,
  v: unknown,
  maxEntries: number,
  keyMin: number,
  keyMax: number,
  valueMin: number,
  valueMax: number,
): void {
  if (!isPlainObject(v)) fail(claim, `must be an object of strings, got ${describe(v)}`);
  const entries = Object.entries(v);
  if (entries.length < 1 || entries.length > maxEntries) {
    fail(claim, `must have 1–${maxEntries} entries, got ${entries.length}`);
  }
  for (const [k, val] of entries) {
    const kn = utf8Length(k);
    if (kn < keyMin || kn > keyMax) fail(claim, `key ${describe(k)} must be ${keyMin}–${keyMax} bytes long (UTF-8)`);
    if (LONE_SURROGATE.test(k)) fail(claim, 'keys must be valid Unicode (lone surrogate)');
    checkString(fail, `${claim}[${JSON.stringify(k)}]`, val, valueMin, valueMax);
  }
}

const ORIGIN_RE =
  /^[a-z][a-z0-9+.-]*:\/\/(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?$/;

/** True for `*`, `scheme://host[:port]` or `scheme://*.example.com[:port]` (lower case, no path). */
export function isValidOrigin(s: string): boolean {
  if (s === '*') return true;
  const m = ORIGIN_RE.exec(s);
  if (!m) return false;
  const [, wildcard, host, port] = m;
  if ((host as string).startsWith('[')) {
    if (wildcard || !isIPv6((host as string).slice(1, -1))) return false;
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  return true;
}

const KNOWN = new Set([
  'jti',
  'exp',
  'iat',
  'nbf',
  'sub',
  'provider',
  'api_key',
  'max_calls',
  'models',
  'paths',
  'rpm',
  'concurrency',
  'max_tokens',
  'token_budget',
  'max_session_seconds',
  'ips',
  'origins',
  'model_map',
  'meta',
]);

/**
 * Validates a claims set against docs/token-format.md §4 and throws a
 * `RelayAPIError` with code `invalid_argument` naming the offending claim.
 * `nameOf` renames claims in messages (the SDK passes option names).
 */
export function validateClaims(claims: unknown, nameOf: NameOf = identity): asserts claims is Claims {
  const fail: Fail = (claim, message) => {
    const name = nameOf(claim);
    throw new RelayAPIError('invalid_argument', `${name}: ${message}`, { param: name });
  };
  if (!isPlainObject(claims)) fail('claims', `must be an object, got ${describe(claims)}`);
  const c = claims;

  for (const [name, v] of Object.entries(c)) {
    if (!KNOWN.has(name) && !name.startsWith('x_')) fail(name, 'unknown claim (extension claims must start with "x_")');
    if (v === null) fail(name, 'must not be null (omit it instead)');
    if (v === undefined) fail(name, 'must not be undefined (omit it instead)');
  }

  if (!('jti' in c)) fail('jti', 'is required');
  if (typeof c.jti !== 'string' || !JTI_RE.test(c.jti)) {
    fail('jti', `must be 16–128 characters of [A-Za-z0-9._:-], got ${describe(c.jti)}`);
  }
  if (!('exp' in c)) fail('exp', 'is required');
  checkInt(fail, 'exp', c.exp, 1, MAX_SAFE, '2^53-1');
  if ('iat' in c) checkInt(fail, 'iat', c.iat, 0, MAX_SAFE, '2^53-1');
  if ('nbf' in c) {
    checkInt(fail, 'nbf', c.nbf, 0, MAX_SAFE, '2^53-1');
    if ((c.nbf as number) >= (c.exp as number)) fail('nbf', 'must be before the expiry');
  }
  if ('sub' in c) checkString(fail, 'sub', c.sub, 1, 256);
  if (!('provider' in c)) fail('provider', 'is required');
  if (typeof c.provider !== 'string' || !PROVIDER_RE.test(c.provider)) {
    fail('provider', `must match ^[a-z0-9][a-z0-9_-]{0,63}$, got ${describe(c.provider)}`);
  }
  if ('api_key' in c) {
    // Never echo the key itself in a message.
    if (typeof c.api_key !== 'string') fail('api_key', `must be a string, got ${typeof c.api_key}`);
    if (!API_KEY_RE.test(c.api_key)) {
      fail('api_key', 'must be 1–4096 printable ASCII characters without spaces');
    }
  }
  if ('max_calls' in c) checkInt(fail, 'max_calls', c.max_calls, 1, MAX_SAFE, '2^53-1');
  if ('models' in c) {
    checkArray(fail, 'models', c.models, (m, i) => checkString(fail, `models[${i}]`, m, 1, 256));
  }
  if ('paths' in c) {
    checkArray(fail, 'paths', c.paths, (p, i) => {
      checkString(fail, `paths[${i}]`, p, 1, 1024);
      if (!(p as string).startsWith('/')) fail(`paths[${i}]`, `must start with "/", got ${describe(p)}`);
    });
  }
  if ('rpm' in c) checkInt(fail, 'rpm', c.rpm, 1, 1_000_000, '1000000');
  if ('concurrency' in c) checkInt(fail, 'concurrency', c.concurrency, 1, 100_000, '100000');
  if ('max_tokens' in c) checkInt(fail, 'max_tokens', c.max_tokens, 1, 2 ** 31 - 1, '2^31-1');
  if ('token_budget' in c) checkInt(fail, 'token_budget', c.token_budget, 1, MAX_SAFE, '2^53-1');
  if ('max_session_seconds' in c) checkInt(fail, 'max_session_seconds', c.max_session_seconds, 1, 86_400, '86400');
  if ('ips' in c) {
    checkArray(fail, 'ips', c.ips, (ip, i) => {
      if (typeof ip !== 'string' || !isIPOrCIDR(ip)) {
        fail(
          `ips[${i}]`,
          `must be an IP address or CIDR (203.0.113.7, 10.0.0.0/8, 2001:db8::/32), got ${describe(ip)}`,
        );
      }
    });
  }
  if ('origins' in c) {
    checkArray(fail, 'origins', c.origins, (o, i) => {
      if (typeof o !== 'string' || !isValidOrigin(o)) {
        fail(
          `origins[${i}]`,
          `must be "*", "scheme://host[:port]" or "scheme://*.domain" in lower case without a path, got ${describe(o)}`,
        );
      }
    });
  }
  if ('model_map' in c) checkStringMap(fail, 'model_map', c.model_map, 100, 1, 256, 1, 256);
  if ('meta' in c) checkStringMap(fail, 'meta', c.meta, 32, 1, 64, 1, 256);
}
