import type { JWK } from 'jose';
import { invalidConfig } from './errors.js';
import { KID_RE } from './claims.js';

/** `server` section of a `.rai` file: where the relay is reachable. */
export interface RaiServer {
  scheme?: 'http' | 'https' | (string & {});
  host?: string;
  port?: number;
  base_path?: string;
}

/** An EC P-256 JSON Web Key as written by `relayapi keygen`. */
export interface EcJWK {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

export interface AesCrypto {
  method: 'aes';
  /** 32 bytes as 64 hex characters. */
  aes_key: string;
  /** Seed-format compatibility: accepted and ignored (IVs are random per token). */
  aes_iv_seed?: unknown;
  key_id?: string;
}

export interface EccBackendCrypto {
  method: 'ecc';
  signing_key: EcJWK;
  relay_public_key: EcJWK;
  key_id?: string;
}

/** A parsed `.rai` key file (docs/token-format.md §3). Unknown keys are ignored. */
export interface RaiFile {
  version?: string;
  server?: RaiServer;
  crypto: AesCrypto | EccBackendCrypto;
  [key: string]: unknown;
}

export type KeyMaterial =
  | { method: 'aes'; key: Uint8Array; kid?: string }
  | { method: 'ecc'; signing: JWK; signerKid?: string; relay: JWK; relayKid?: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKid(where: string, kid: unknown): string | undefined {
  if (kid === undefined) return undefined;
  if (typeof kid !== 'string' || !KID_RE.test(kid)) {
    throw invalidConfig(`${where} must match ^[A-Za-z0-9._-]{1,64}$`);
  }
  return kid;
}

const B64U_32 = /^[A-Za-z0-9_-]{43}$/;

function ecKey(where: string, v: unknown, role: 'sig' | 'enc', needPrivate: boolean): { jwk: JWK; kid?: string } {
  if (!isObject(v)) throw invalidConfig(`crypto.${where} must be a JWK object`);
  if (v.kty !== 'EC' || v.crv !== 'P-256') throw invalidConfig(`crypto.${where} must be an EC P-256 key`);
  for (const c of ['x', 'y'] as const) {
    if (typeof v[c] !== 'string' || !B64U_32.test(v[c]))
      throw invalidConfig(`crypto.${where}.${c} is not a P-256 coordinate`);
  }
  if (needPrivate && (typeof v.d !== 'string' || !B64U_32.test(v.d))) {
    throw invalidConfig(`crypto.${where} has no private part "d"`);
  }
  const alg = role === 'sig' ? 'ES256' : 'ECDH-ES';
  if (v.alg !== undefined && v.alg !== alg)
    throw invalidConfig(`crypto.${where}.alg must be ${alg}, got ${JSON.stringify(v.alg)}`);
  if (v.use !== undefined && v.use !== role) throw invalidConfig(`crypto.${where}.use must be "${role}"`);
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: v.x as string, y: v.y as string };
  if (needPrivate) jwk.d = v.d as string;
  const kid = checkKid(`crypto.${where}.kid`, v.kid);
  return kid === undefined ? { jwk } : { jwk, kid };
}

/**
 * The key RelayAPI 1.x published in its docs and wrote into every auto-created
 * `default.rai`: anyone can mint tokens with it, so it is refused.
 */
const V1_EXAMPLE_AES_KEY = '0123456789abcdef'.repeat(4);

/** Same wording in every SDK (issue 17 contract §1). */
export const EXAMPLE_KEY_MESSAGE =
  'crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens with it. Make a real key with: relayapi keygen --method aes --out default.rai';

/** Reads the key material of a backend (minting) `.rai` file. */
export function parseKeys(rai: unknown, warn: (message: string) => void): KeyMaterial {
  if (!isObject(rai)) throw invalidConfig('expected a JSON object');
  const crypto = rai.crypto;
  if (!isObject(crypto)) throw invalidConfig('missing "crypto" section');
  const keyId = checkKid('crypto.key_id', crypto.key_id);
  if (crypto.method === 'aes') {
    const hex = crypto.aes_key;
    if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw invalidConfig('crypto.aes_key must be 64 hex characters (32 bytes)');
    }
    if (hex.toLowerCase() === V1_EXAMPLE_AES_KEY) throw invalidConfig(EXAMPLE_KEY_MESSAGE);
    if (crypto.aes_iv_seed !== undefined) {
      warn('relayapi: crypto.aes_iv_seed in the .rai file is ignored (IVs are random for every token)');
    }
    const key = new Uint8Array(32);
    for (let i = 0; i < 32; i++) key[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return keyId === undefined ? { method: 'aes', key } : { method: 'aes', key, kid: keyId };
  }
  if (crypto.method === 'ecc') {
    if (
      crypto.signing_key === undefined &&
      (crypto.relay_private_key !== undefined || crypto.trusted_signers !== undefined)
    ) {
      throw invalidConfig(
        'this is a relay key file (wrong role): an SDK needs the backend file written by `relayapi keygen --out`',
      );
    }
    if (crypto.signing_key === undefined) throw invalidConfig('crypto.signing_key is missing');
    if (crypto.relay_public_key === undefined) throw invalidConfig('crypto.relay_public_key is missing');
    const signing = ecKey('signing_key', crypto.signing_key, 'sig', true);
    const relay = ecKey('relay_public_key', crypto.relay_public_key, 'enc', false);
    const out: KeyMaterial = { method: 'ecc', signing: signing.jwk, relay: relay.jwk };
    if (signing.kid !== undefined) out.signerKid = signing.kid;
    if (relay.kid !== undefined) out.relayKid = relay.kid;
    return out;
  }
  throw invalidConfig(`crypto.method must be "aes" or "ecc", got ${JSON.stringify(crypto.method)}`);
}

function checkPort(where: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidConfig(`${where} must be an integer between 1 and 65535`);
  }
  return port;
}

/** `scheme://` at the start of `server.host` (RelayAPI 1.x wrote `"host": "http://localhost"`). */
const HOST_SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** What may follow the scheme inside `server.host`: a name, IPv4 or [IPv6], and an optional `:port`. */
const HOST_AUTHORITY_RE = /^(\[[0-9A-Fa-f:.]+\]|[^\s/?#@\\[\]:]+)(?::([0-9]{1,5}))?$/;

/**
 * `{scheme}://{host}[:{port}]{base_path}` from the `server` section (defaults in
 * docs/token-format.md §3.1). Also reads the 1.x form: the scheme inside `host`
 * (`http://localhost`) and a `base_path` with a trailing `/`.
 */
export function serverURL(server: unknown): string {
  const s = isObject(server) ? server : {};
  const givenPort = s.port === undefined ? undefined : checkPort('server.port', s.port);
  const givenScheme = s.scheme === undefined || s.scheme === '' ? undefined : s.scheme;
  if (givenScheme !== undefined && givenScheme !== 'http' && givenScheme !== 'https') {
    throw invalidConfig('server.scheme must be "http" or "https"');
  }
  const rawHost: unknown = s.host === undefined || s.host === '' ? '127.0.0.1' : s.host;
  if (typeof rawHost !== 'string') throw invalidConfig('server.host must be a host name or IP');

  let scheme: string | undefined = givenScheme;
  let host = rawHost;
  let port = givenPort;
  const m = HOST_SCHEME_RE.exec(rawHost);
  if (m) {
    const hostScheme = (m[1] as string).toLowerCase();
    if (hostScheme !== 'http' && hostScheme !== 'https') {
      throw invalidConfig(`server.host may start with http:// or https:// only, got ${JSON.stringify(rawHost)}`);
    }
    if (givenScheme !== undefined && givenScheme !== hostScheme) {
      throw invalidConfig(
        `server.host says ${hostScheme}:// but server.scheme is ${JSON.stringify(givenScheme)}: keep one of them`,
      );
    }
    const a = HOST_AUTHORITY_RE.exec(rawHost.slice(m[0].length));
    if (!a) {
      throw invalidConfig(
        `server.host must be ${hostScheme}:// followed by a bare host name or IP (no path, query or user; the path goes in server.base_path), got ${JSON.stringify(rawHost)}`,
      );
    }
    host = (a[1] as string).replace(/^\[|\]$/g, '');
    if (a[2] !== undefined) {
      const hostPort = checkPort('the port inside server.host', Number(a[2]));
      if (givenPort !== undefined && givenPort !== hostPort) {
        throw invalidConfig(`server.host has port ${hostPort} but server.port is ${givenPort}: keep one of them`);
      }
      port = hostPort;
    }
    scheme = hostScheme;
  } else if (/[\s/?#@]/.test(rawHost)) {
    throw invalidConfig('server.host must be a host name or IP');
  }
  const finalPort = port ?? 8840;
  const finalScheme = scheme ?? (finalPort === 443 ? 'https' : 'http');
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${finalScheme}://${hostPart}${portSuffix(finalScheme, finalPort)}${basePathOf(s.base_path)}`;
}

function portSuffix(scheme: string, port: number): string {
  return (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? '' : `:${port}`;
}

/**
 * `server.base_path` as a URL prefix: "" or "/a/b". One trailing "/" is removed
 * (1.x wrote "/relayapi/"), so "/" means none.
 */
function basePathOf(p: unknown): string {
  if (p === undefined || p === '') return '';
  if (typeof p !== 'string' || /[\s?#]/.test(p) || p.includes('//') || !p.startsWith('/')) {
    throw invalidConfig(
      `server.base_path must be a path starting with / (no //, ?, # or spaces), got ${JSON.stringify(p)}`,
    );
  }
  return p.endsWith('/') ? p.slice(0, -1) : p;
}
