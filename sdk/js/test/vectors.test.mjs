// Every vector of testdata/vectors/vectors.json, decoded at the vector's fixed
// `now` and `leeway` by the test decoder, plus SDK minting with the vector keys.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { RelayAPI } from '../dist/index.js';
import { decodeToken, readJSON, relayKeys, vectorsDir } from './helpers.mjs';

const file = join(vectorsDir, 'vectors.json');
const doc = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;

describe('shared test vectors', () => {
  it('testdata/vectors/vectors.json exists', () => {
    assert.ok(existsSync(file), `missing ${file}`);
  });
  if (!doc) return;

  const keyCache = new Map();
  const keysFor = async (name) => {
    const rel = doc.keys[name];
    assert.ok(rel, `vector names unknown key ${name}`);
    if (!keyCache.has(name)) keyCache.set(name, relayKeys(await readJSON(join(vectorsDir, rel))));
    return keyCache.get(name);
  };

  it('has vectors of both methods, valid and invalid', () => {
    const methods = new Set(doc.vectors.map((v) => v.method));
    assert.ok(methods.has('aes') && methods.has('ecc'));
    assert.ok(doc.vectors.some((v) => 'claims' in v));
    assert.ok(doc.vectors.some((v) => 'error' in v));
  });

  for (const v of doc.vectors) {
    it(`${v.name}`, async () => {
      const keys = await keysFor(v.relay_key);
      const opts = { now: doc.now, leeway: doc.leeway };
      if ('claims' in v) {
        const claims = await decodeToken(v.token, keys, opts);
        assert.deepStrictEqual(claims, v.claims);
      } else {
        await assert.rejects(decodeToken(v.token, keys, opts), (e) => {
          assert.equal(e.code, v.error, `expected ${v.error}, got ${e.code} (${e.reason})`);
          return true;
        });
      }
    });
  }

  const backendFiles = [
    ['aes', 'aes', 'aes'],
    ['ecc', 'ecc_backend', 'ecc_relay'],
  ];
  for (const [method, mintName, relayName] of backendFiles) {
    it(`SDK mints with the ${method} vector key and its kid matches the vectors`, async () => {
      const relay = await RelayAPI.fromFile(join(vectorsDir, doc.keys[mintName]), { onWarning: () => {} });
      assert.equal(relay.method, method);
      const token = await relay.createToken({ apiKey: 'sk-vector', maxCalls: 3, models: ['gpt-4o*'] });
      const claims = await decodeToken(token.value, await keysFor(relayName));
      assert.equal(claims.jti, token.id);
      assert.equal(claims.api_key, 'sk-vector');
      // The kid the SDK derives (or reads) must be the one the Go vectors carry.
      const header = jose.decodeProtectedHeader(token.value);
      const valid = doc.vectors.filter((x) => x.relay_key === relayName && 'claims' in x);
      assert.ok(valid.length > 0);
      const vectorKids = new Set(valid.map((x) => jose.decodeProtectedHeader(x.token).kid));
      assert.ok(vectorKids.has(header.kid), `kid ${header.kid} not among ${[...vectorKids]}`);
    });
  }
  it('ecc kids derived from the JWK thumbprint match the Go key files', async () => {
    const backend = await readJSON(join(vectorsDir, doc.keys.ecc_backend));
    const { kid: signerKid, ...signing } = backend.crypto.signing_key;
    const { kid: relayKid, ...relayPub } = backend.crypto.relay_public_key;
    const relay = new RelayAPI({
      ...backend,
      crypto: { method: 'ecc', signing_key: signing, relay_public_key: relayPub },
    });
    assert.equal(await relay.keyId(), signerKid);
    const token = await relay.createToken({ apiKey: 'sk-derived' });
    assert.equal(jose.decodeProtectedHeader(token.value).kid, relayKid);
    assert.equal((await decodeToken(token.value, await keysFor('ecc_relay'))).api_key, 'sk-derived');
  });

  it('aes-kid.rai mints with its explicit key_id', async () => {
    const relay = await RelayAPI.fromFile(join(vectorsDir, doc.keys.aes_kid));
    assert.equal(await relay.keyId(), 'rotation-2026-01');
    const token = await relay.createToken();
    await decodeToken(token.value, await keysFor('aes_kid'));
    await assert.rejects(decodeToken(token.value, await keysFor('aes')), { code: 'invalid_token' });
  });

  it('a token minted with the untrusted ecc backend is rejected by the relay key', async () => {
    const relay = await RelayAPI.fromFile(join(vectorsDir, doc.keys.ecc_untrusted_backend));
    const token = await relay.createToken({ apiKey: 'sk-untrusted' });
    await assert.rejects(decodeToken(token.value, await keysFor('ecc_relay')), { code: 'invalid_token' });
  });
});
