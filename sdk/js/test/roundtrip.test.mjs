// Mint with the SDK, decode with the test decoder (both methods).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { RelayAPI, RelayAPIError } from '../dist/index.js';
import { decodeToken, makeAesFile, makeEccFiles, relayKeys } from './helpers.mjs';

const full = {
  provider: 'openai',
  apiKey: 'sk-test-ABC123',
  expiresIn: 600,
  maxCalls: 10,
  models: ['gpt-4o*', 'text-embedding-3-small'],
  paths: ['/v1/chat/*', '/v1/embeddings'],
  rpm: 60,
  concurrency: 2,
  maxTokens: 512,
  tokenBudget: 100000,
  maxSessionSeconds: 1800,
  ips: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'],
  origins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:3000'],
  modelMap: { 'gpt-4': 'gpt-4o-mini' },
  meta: { user: 'alice', plan: 'free' },
  sub: 'user-42',
  extra: { x_trace: { a: [1, 2.5, 'b'] } },
};

const expectedClaims = (token, now) => ({
  jti: token.id,
  iat: now,
  exp: now + 600,
  provider: 'openai',
  api_key: 'sk-test-ABC123',
  max_calls: 10,
  models: ['gpt-4o*', 'text-embedding-3-small'],
  paths: ['/v1/chat/*', '/v1/embeddings'],
  rpm: 60,
  concurrency: 2,
  max_tokens: 512,
  token_budget: 100000,
  max_session_seconds: 1800,
  ips: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'],
  origins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:3000'],
  model_map: { 'gpt-4': 'gpt-4o-mini' },
  meta: { user: 'alice', plan: 'free' },
  sub: 'user-42',
  x_trace: { a: [1, 2.5, 'b'] },
});

async function setups() {
  const aes = makeAesFile();
  const ecc = await makeEccFiles();
  return [
    { method: 'aes', mint: aes, decode: aes },
    { method: 'ecc', mint: ecc.backend, decode: ecc.relay },
  ];
}

for (const s of await setups()) {
  describe(`round trip (${s.method})`, () => {
    const relay = new RelayAPI(s.mint);
    let keysP;
    const keys = () => (keysP ??= relayKeys(s.decode));

    it('every claim survives encode → decode', async () => {
      const before = Math.floor(Date.now() / 1000);
      const token = await relay.createToken(full);
      const claims = await decodeToken(token.value, await keys());
      assert.ok(claims.iat >= before && claims.iat <= before + 2);
      assert.deepStrictEqual(claims, expectedClaims(token, claims.iat));
      assert.equal(token.expiresAt.getTime(), claims.exp * 1000);
      assert.match(token.id, /^[A-Za-z0-9_-]{22}$/);
    });

    it('defaults: provider openai, 1 hour, random jti, no optional claims', async () => {
      const token = await relay.createToken();
      const claims = await decodeToken(token.value, await keys());
      assert.deepStrictEqual(Object.keys(claims).sort(), ['exp', 'iat', 'jti', 'provider']);
      assert.equal(claims.provider, 'openai');
      assert.equal(claims.exp - claims.iat, 3600);
      const other = await relay.createToken();
      assert.notEqual(other.id, token.id);
    });

    it('headers follow the spec', async () => {
      const token = await relay.createToken({ apiKey: 'sk-x' });
      assert.match(token.value, /^[A-Za-z0-9_.-]+$/);
      const h = jose.decodeProtectedHeader(token.value);
      const kid = await relay.keyId();
      assert.match(kid, /^[A-Za-z0-9._-]{1,64}$/);
      if (s.method === 'aes') {
        assert.deepStrictEqual(h, { alg: 'dir', enc: 'A256GCM', kid });
        assert.equal(kid.length, 16);
      } else {
        assert.equal(h.alg, 'ECDH-ES');
        assert.equal(h.enc, 'A256GCM');
        assert.equal(h.cty, 'JWT');
        assert.equal(h.epk.crv, 'P-256');
        assert.equal(h.kid, (await relayKeys(s.decode)).ecc.keys().next().value);
        assert.deepStrictEqual(Object.keys(h).sort(), ['alg', 'cty', 'enc', 'epk', 'kid']);
      }
    });

    it('the same claims give a different token every time', async () => {
      const a = await relay.createToken({ jti: 'fixed-jti-0123456789' });
      const b = await relay.createToken({ jti: 'fixed-jti-0123456789' });
      assert.notEqual(a.value, b.value);
      assert.equal(a.id, 'fixed-jti-0123456789');
    });

    it('a tampered token is invalid_token', async () => {
      const token = await relay.createToken({ apiKey: 'sk-x' });
      const parts = token.value.split('.');
      const ct = parts[3];
      parts[3] = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
      await assert.rejects(decodeToken(parts.join('.'), await keys()), { code: 'invalid_token' });
    });

    it('another key cannot decode it', async () => {
      const token = await relay.createToken({ apiKey: 'sk-x' });
      const other = s.method === 'aes' ? makeAesFile() : (await makeEccFiles()).relay;
      await assert.rejects(decodeToken(token.value, await relayKeys(other)), { code: 'invalid_token' });
    });

    it('expiry and not-before are honoured with leeway', async () => {
      const nbf = Math.floor(Date.now() / 1000) + 1000;
      const token = await relay.createToken({ expiresIn: 5000, notBefore: new Date(nbf * 1000) });
      const k = await keys();
      await assert.rejects(decodeToken(token.value, k), { code: 'token_not_yet_valid' });
      assert.equal((await decodeToken(token.value, k, { now: nbf - 30 })).nbf, nbf);
      await assert.rejects(decodeToken(token.value, k, { now: nbf + 5000 }), { code: 'token_expired' });
    });

    it('refuses a token over 8192 bytes', async () => {
      const meta = {};
      for (let i = 0; i < 32; i++) meta[`k${i}`.padEnd(64, 'x')] = 'v'.repeat(256);
      await assert.rejects(
        relay.createToken({ meta }),
        (e) => e instanceof RelayAPIError && e.code === 'token_too_large',
      );
    });

    it('generateURL makes a URL whose token decodes', async () => {
      const url = await relay.generateURL({ apiKey: 'sk-y', maxCalls: 1 });
      const m = /^http:\/\/127\.0\.0\.1:8840\/t\/([A-Za-z0-9_.-]+)\/v1$/.exec(url);
      assert.ok(m, url);
      assert.equal((await decodeToken(m[1], await keys())).max_calls, 1);
    });
  });
}

describe('ecc specifics', () => {
  it('inner JWS is ES256 with typ JWT and the signer kid; a forged signer fails', async () => {
    const { backend, relay } = await makeEccFiles({ signerKid: 'backend-1', relayKid: 'relay-1' });
    const sdk = new RelayAPI(backend);
    assert.equal(await sdk.keyId(), 'backend-1');
    const token = await sdk.createToken({ apiKey: 'sk-z' });
    assert.equal(jose.decodeProtectedHeader(token.value).kid, 'relay-1');
    const keys = await relayKeys(relay);
    assert.equal((await decodeToken(token.value, keys)).api_key, 'sk-z');

    // A second backend sharing the relay public key but not trusted by the relay,
    // even claiming the trusted signer's kid, is rejected.
    const rogue = await makeEccFiles({ signerKid: 'backend-1' });
    const forged = new RelayAPI({
      ...rogue.backend,
      crypto: { ...rogue.backend.crypto, relay_public_key: backend.crypto.relay_public_key },
    });
    const bad = await forged.createToken({ apiKey: 'sk-z' });
    await assert.rejects(decodeToken(bad.value, keys), { code: 'invalid_token' });
  });

  it('decrypting the JWE yields a compact JWS with the expected header', async () => {
    const { backend, relay } = await makeEccFiles();
    const sdk = new RelayAPI(backend);
    const token = await sdk.createToken();
    const { kty, crv, x, y, d } = relay.crypto.relay_private_key;
    const priv = await jose.importJWK({ kty, crv, x, y, d }, 'ECDH-ES');
    const { plaintext } = await jose.compactDecrypt(token.value, priv);
    const jws = new TextDecoder().decode(plaintext);
    assert.deepStrictEqual(jose.decodeProtectedHeader(jws), { alg: 'ES256', kid: await sdk.keyId(), typ: 'JWT' });
  });
});
