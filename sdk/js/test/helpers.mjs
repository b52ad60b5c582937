// Shared test helpers: a test-only token decoder (docs/token-format.md §6),
// key generation, locating/building the Go binaries and running them.
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { validateClaims } from '../dist/index.js';

const execFileP = promisify(execFile);
export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
export const vectorsDir = join(repoRoot, 'testdata/vectors');
export const serverDir = join(repoRoot, 'server');

export class DecodeError extends Error {
  constructor(code, reason) {
    super(`${code}: ${reason}`);
    this.code = code;
    this.reason = reason;
  }
}
const invalid = (reason) => new DecodeError('invalid_token', reason);

const INTEGER_CLAIMS = [
  'exp',
  'iat',
  'nbf',
  'max_calls',
  'rpm',
  'concurrency',
  'max_tokens',
  'token_budget',
  'max_session_seconds',
];

/**
 * Raw source text of each top-level member of a JSON object (JSON.parse loses
 * the difference between `1` and `1.0`, which the spec rejects).
 */
export function topLevelRaw(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const str = () => {
    const start = i;
    if (text[i] !== '"') throw new Error('expected string');
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = () => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '"') str();
    else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) i++;
      else {
        for (;;) {
          if (c === '{') {
            ws();
            str();
            ws();
            i++; // ':'
          }
          value();
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === close) {
            i++;
            break;
          } else throw new Error('bad JSON');
        }
      }
    } else {
      while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
    }
    return text.slice(start, i);
  };
  const out = new Map();
  ws();
  if (text[i] !== '{') return out;
  i++;
  ws();
  if (text[i] === '}') return out;
  for (;;) {
    ws();
    const k = str();
    ws();
    i++;
    out.set(k, value().trim());
    ws();
    if (text[i] === ',') i++;
    else break;
  }
  return out;
}

async function kidOf(jwk) {
  if (jwk.kid !== undefined) return jwk.kid;
  const pub = jwk.kty === 'oct' ? { kty: 'oct', k: jwk.k } : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
  return (await jose.calculateJwkThumbprint(pub, 'sha256')).slice(0, 16);
}

/** The keys a relay holding this `.rai` (aes file or ecc relay file) decodes with. */
export async function relayKeys(rai) {
  const c = rai.crypto;
  if (c.method === 'aes') {
    const key = Uint8Array.from(Buffer.from(c.aes_key, 'hex'));
    const kid = c.key_id ?? (await kidOf({ kty: 'oct', k: jose.base64url.encode(key) }));
    return { aes: new Map([[kid, key]]), ecc: new Map() };
  }
  if (!c.relay_private_key) throw new Error('not a relay key file');
  const { kty, crv, x, y, d } = c.relay_private_key;
  const priv = await jose.importJWK({ kty, crv, x, y, d }, 'ECDH-ES');
  const signers = new Map();
  for (const s of c.trusted_signers ?? []) {
    signers.set(await kidOf(s), await jose.importJWK({ kty: s.kty, crv: s.crv, x: s.x, y: s.y }, 'ES256'));
  }
  return { aes: new Map(), ecc: new Map([[await kidOf(c.relay_private_key), { priv, signers }]]) };
}

/** Decodes a token like the relay does. Throws DecodeError with the spec's error code. */
export async function decodeToken(token, keys, { now = Math.floor(Date.now() / 1000), leeway = 30 } = {}) {
  if (typeof token !== 'string' || Buffer.byteLength(token, 'utf8') > 8192) throw invalid('too long');
  const parts = token.split('.');
  if (parts.length !== 5 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) throw invalid('not 5 base64url parts');
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(jose.base64url.decode(parts[0])));
  } catch {
    throw invalid('bad header');
  }
  if (typeof header !== 'object' || header === null) throw invalid('bad header');
  let plaintext;
  if (header.alg === 'dir' && header.enc === 'A256GCM') {
    const key = keys.aes.get(header.kid);
    if (!key) throw invalid('unknown kid');
    try {
      ({ plaintext } = await jose.compactDecrypt(token, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      }));
    } catch (e) {
      throw invalid(`decrypt: ${e.code ?? e.message}`);
    }
  } else if (header.alg === 'ECDH-ES' && header.enc === 'A256GCM') {
    const relay = keys.ecc.get(header.kid);
    if (!relay) throw invalid('unknown kid');
    let inner;
    try {
      const res = await jose.compactDecrypt(token, relay.priv, {
        keyManagementAlgorithms: ['ECDH-ES'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      if (typeof res.protectedHeader.cty !== 'string' || res.protectedHeader.cty.toUpperCase() !== 'JWT') {
        throw new Error('cty is not JWT');
      }
      inner = new TextDecoder('utf-8', { fatal: true }).decode(res.plaintext);
    } catch (e) {
      throw invalid(`decrypt: ${e.code ?? e.message}`);
    }
    let jwsHeader;
    try {
      jwsHeader = jose.decodeProtectedHeader(inner);
    } catch {
      throw invalid('inner is not a JWS');
    }
    if (inner.split('.').length !== 3 || jwsHeader.alg !== 'ES256') throw invalid('inner alg');
    const signer = relay.signers.get(jwsHeader.kid);
    if (!signer) throw invalid('unknown signer');
    try {
      ({ payload: plaintext } = await jose.compactVerify(inner, signer, { algorithms: ['ES256'] }));
    } catch (e) {
      throw invalid(`verify: ${e.code ?? e.message}`);
    }
  } else {
    throw invalid(`alg/enc ${header.alg}/${header.enc}`);
  }
  let claims;
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    claims = JSON.parse(text);
  } catch {
    throw invalid('claims are not JSON');
  }
  try {
    validateClaims(claims);
    const raw = topLevelRaw(text);
    for (const name of INTEGER_CLAIMS) {
      if (raw.has(name) && !/^-?(0|[1-9][0-9]*)$/.test(raw.get(name))) throw new Error(`${name} is not an integer`);
    }
  } catch (e) {
    throw invalid(`claims: ${e.message}`);
  }
  if (now > claims.exp + leeway) throw new DecodeError('token_expired', 'expired');
  if (claims.nbf !== undefined && now + leeway < claims.nbf) throw new DecodeError('token_not_yet_valid', 'nbf');
  return claims;
}

export async function readJSON(path) {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** A fresh ecc pair of files: [backend .rai, relay .rai], generated with jose. */
export async function makeEccFiles({ server = { host: '127.0.0.1', port: 8840 }, signerKid, relayKid } = {}) {
  const sig = await jose.generateKeyPair('ES256', { extractable: true });
  const enc = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const sigPriv = { ...(await jose.exportJWK(sig.privateKey)), alg: 'ES256', use: 'sig' };
  const encPriv = { ...(await jose.exportJWK(enc.privateKey)), alg: 'ECDH-ES', use: 'enc' };
  if (signerKid) sigPriv.kid = signerKid;
  if (relayKid) encPriv.kid = relayKid;
  const pub = ({ d: _d, ...rest }) => rest;
  const backend = {
    version: '1',
    server,
    crypto: { method: 'ecc', signing_key: sigPriv, relay_public_key: pub(encPriv) },
  };
  const relay = {
    version: '1',
    server,
    crypto: { method: 'ecc', relay_private_key: encPriv, trusted_signers: [pub(sigPriv)] },
  };
  return { backend, relay };
}

export function makeAesFile({ server = { host: '127.0.0.1', port: 8840 }, ivSeed = false } = {}) {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
  const c = { method: 'aes', aes_key: key };
  if (ivSeed) c.aes_iv_seed = 'legacy-seed';
  return { version: '1.0.0', server, crypto: c };
}

const tempDirs = [];
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export async function tempDir(prefix = 'relayapi-js-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function writeJSON(path, value) {
  await writeFile(path, JSON.stringify(value, null, 2));
  return path;
}

const built = new Map();
/** Path of a Go binary: from `envName`, else `go build` of server/cmd/<cmd> into a temp dir. */
export function goBinary(cmd, envName) {
  if (process.env[envName]) return Promise.resolve(process.env[envName]);
  if (!built.has(cmd)) {
    built.set(
      cmd,
      (async () => {
        const out = join(await tempDir('relayapi-bin-'), cmd);
        try {
          await execFileP('go', ['build', '-o', out, `./cmd/${cmd}`], { cwd: serverDir, timeout: 300_000 });
        } catch (e) {
          throw new Error(
            `cannot build server/cmd/${cmd} (set ${envName} to a built binary): ${e.stderr || e.message}`,
          );
        }
        return out;
      })(),
    );
  }
  return built.get(cmd);
}

export async function run(bin, args, opts = {}) {
  return execFileP(bin, args, { timeout: 60_000, ...opts });
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const children = [];
process.on('exit', () => {
  for (const p of children) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

/** Spawns a process, collecting its output; `stopChildren()` ends it. */
export function start(bin, args, name, options = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const proc = { child, name, log: () => log, exited };
  children.push(proc);
  return proc;
}

/** Ends one started process (SIGTERM, then SIGKILL after 5 s). */
export async function stop(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const t = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
    await proc.exited;
    clearTimeout(t);
  }
}

/** Ends every process started with `start` (use in `after`). */
export async function stopChildren() {
  await Promise.all(children.map(stop));
}

/** Polls `url` until it answers (any status); fails early when `proc` exits. */
export async function waitHTTP(url, proc, timeoutMs = 20_000, init = {}) {
  const deadline = Date.now() + timeoutMs;
  let exitCode;
  proc.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`${proc.name} exited with ${exitCode} before serving ${url}:\n${proc.log()}`);
    }
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.log()}`);
}

/** The Go mock provider on a free port. */
export async function startMock() {
  const bin = await goBinary('mockprovider', 'MOCKPROVIDER_BIN');
  const port = await freePort();
  const proc = start(bin, ['--listen', `127.0.0.1:${port}`], 'mockprovider');
  const url = `http://127.0.0.1:${port}`;
  await waitHTTP(`${url}/_mock/stats`, proc);
  return { url, proc };
}

/** A `.rai` exactly as RelayAPI 1.x wrote default.rai (scheme in host, trailing slash, aes_iv_seed), fresh key. */
export function makeV1Rai(port) {
  return {
    version: '1.0.0',
    server: { host: 'http://127.0.0.1', port, base_path: '/relayapi/' },
    crypto: {
      method: 'aes',
      aes_key: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'),
      aes_iv_seed: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    },
  };
}

/**
 * A mock provider and a relay (`relayapi serve`) under base path /relayapi that
 * loads a 1.x-form default.rai; providers openai and dashscope point at the mock.
 * Returns the paths and URLs; `stopChildren()` ends both.
 */
export async function startV1Relay({ adminKey } = {}) {
  const mock = await startMock();
  const relayBin = await goBinary('relayapi', 'RELAYAPI_BIN');
  const dir = await tempDir('relayapi-v1-');
  const port = await freePort();
  const rai = makeV1Rai(port);
  const raiFile = await writeJSON(join(dir, 'default.rai'), rai);
  const config = {
    base_path: '/relayapi',
    providers: { openai: { base_url: mock.url }, dashscope: { base_url: mock.url } },
    store: { driver: 'sqlite', url: '' },
  };
  if (adminKey) config.admin = { key: adminKey };
  const configFile = await writeJSON(join(dir, 'config.json'), config);
  const proc = start(
    relayBin,
    ['serve', '--config', configFile, '--rai', raiFile, '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`],
    'relayapi serve (1.x key file)',
  );
  const relayURL = `http://127.0.0.1:${port}/relayapi`;
  const health = await waitHTTP(`${relayURL}/health`, proc);
  if (health.status !== 200) throw new Error(`relay health answered ${health.status}:\n${proc.log()}`);
  return { dir, rai, raiFile, relayURL, port, mockURL: mock.url, proc, mock: mock.proc };
}

/** The requests the mock provider recorded (newest last), e.g. `{ path: '/v1/chat/completions' }`. */
export async function mockRequests(mockURL, query = {}) {
  const res = await fetch(`${mockURL}/_mock/requests?${new URLSearchParams(query)}`);
  return (await res.json()).data;
}
