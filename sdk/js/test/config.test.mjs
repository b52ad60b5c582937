// Loading .rai files (object, JSON text, file, environment) and building URLs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RelayAPI, RelayAPIError } from '../dist/index.js';
import { decodeToken, makeAesFile, makeEccFiles, relayKeys, tempDir, writeJSON } from './helpers.mjs';

const isConfigError = (re) => (e) => {
  assert.ok(e instanceof RelayAPIError);
  assert.equal(e.code, 'invalid_config');
  if (re) assert.match(e.message, re);
  return true;
};

describe('.rai loading', () => {
  it('loads the seed aes format and warns that aes_iv_seed is ignored', async () => {
    const seed = {
      version: '1.0.0',
      server: { host: 'relay.example.com', port: 8840, base_path: '' },
      crypto: { method: 'aes', aes_key: 'AB'.repeat(32), aes_iv_seed: 'whatever' },
    };
    const warnings = [];
    const relay = new RelayAPI(seed, { onWarning: (m) => warnings.push(m) });
    assert.equal(relay.method, 'aes');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /aes_iv_seed.*ignored/);
    const t = await relay.createToken({ apiKey: 'sk-1' });
    assert.equal((await decodeToken(t.value, await relayKeys(seed))).api_key, 'sk-1');
  });

  it('warns through console.warn by default', () => {
    const orig = console.warn;
    const seen = [];
    console.warn = (m) => seen.push(m);
    try {
      new RelayAPI(makeAesFile({ ivSeed: true }));
    } finally {
      console.warn = orig;
    }
    assert.equal(seen.length, 1);
  });

  it('uses crypto.key_id as the aes kid', async () => {
    const rai = makeAesFile();
    rai.crypto.key_id = 'app-2026';
    const relay = new RelayAPI(rai);
    assert.equal(await relay.keyId(), 'app-2026');
    const t = await relay.createToken();
    await decodeToken(t.value, await relayKeys(rai));
  });

  it('derives the aes kid from the RFC 7638 thumbprint', async () => {
    // Thumbprint input {"k":"<b64url of 32 zero bytes>","kty":"oct"}, SHA-256, base64url, first 16.
    const { createHash } = await import('node:crypto');
    const k = Buffer.alloc(32).toString('base64url');
    const expected = createHash('sha256').update(`{"k":"${k}","kty":"oct"}`).digest('base64url').slice(0, 16);
    const relay = new RelayAPI({ crypto: { method: 'aes', aes_key: '00'.repeat(32) } });
    assert.equal(await relay.keyId(), expected);
  });

  it('accepts JSON text', () => {
    assert.equal(new RelayAPI(JSON.stringify(makeAesFile())).method, 'aes');
  });

  const badConfigs = [
    ['not JSON', '{nope', /not valid JSON/],
    ['no crypto', { version: '1' }, /crypto/],
    ['unknown method', { crypto: { method: 'rsa' } }, /method/],
    ['short aes key', { crypto: { method: 'aes', aes_key: 'ab'.repeat(16) } }, /aes_key/],
    ['non-hex aes key', { crypto: { method: 'aes', aes_key: 'zz'.repeat(32) } }, /aes_key/],
    ['bad key_id', { crypto: { method: 'aes', aes_key: 'ab'.repeat(32), key_id: 'has space' } }, /key_id/],
    ['bad port', { server: { port: 70000 }, crypto: { method: 'aes', aes_key: 'ab'.repeat(32) } }, /port/],
  ];
  for (const [what, cfg, re] of badConfigs) {
    it(`rejects ${what}`, () => assert.throws(() => new RelayAPI(cfg), isConfigError(re)));
  }

  it('rejects a relay ecc file (wrong role)', async () => {
    const { relay } = await makeEccFiles();
    assert.throws(() => new RelayAPI(relay), isConfigError(/wrong role/));
  });

  it('rejects an ecc backend file with keys in the wrong roles', async () => {
    const { backend } = await makeEccFiles();
    const swapped = { ...backend, crypto: { ...backend.crypto, relay_public_key: { ...backend.crypto.signing_key } } };
    assert.throws(() => new RelayAPI(swapped), isConfigError(/relay_public_key.alg/));
    const noD = {
      ...backend,
      crypto: { ...backend.crypto, signing_key: { ...backend.crypto.relay_public_key, alg: 'ES256', use: 'sig' } },
    };
    assert.throws(() => new RelayAPI(noD), isConfigError(/private part/));
    const p384 = {
      ...backend,
      crypto: { ...backend.crypto, signing_key: { ...backend.crypto.signing_key, crv: 'P-384' } },
    };
    assert.throws(() => new RelayAPI(p384), isConfigError(/P-256/));
  });

  it('fromFile loads both methods', async () => {
    const dir = await tempDir();
    const aes = await writeJSON(join(dir, 'aes.rai'), makeAesFile());
    const { backend } = await makeEccFiles();
    const ecc = await writeJSON(join(dir, 'ecc.rai'), backend);
    assert.equal((await RelayAPI.fromFile(aes)).method, 'aes');
    assert.equal((await RelayAPI.fromFile(ecc)).method, 'ecc');
    await assert.rejects(RelayAPI.fromFile(join(dir, 'missing.rai')), isConfigError(/cannot read/));
  });

  it('fromEnv reads RELAYAPI_RAI as a path or as inline JSON', async () => {
    const dir = await tempDir();
    const file = await writeJSON(join(dir, 'k.rai'), makeAesFile({ server: { host: 'a.example', port: 443 } }));
    const fromPath = await RelayAPI.fromEnv({ env: { RELAYAPI_RAI: file } });
    assert.equal(fromPath.relayURL, 'https://a.example');
    const inline = await RelayAPI.fromEnv({ env: { RELAYAPI_RAI: JSON.stringify(makeAesFile()) } });
    assert.equal(inline.relayURL, 'http://127.0.0.1:8840');
    const saved = process.env.RELAYAPI_RAI;
    process.env.RELAYAPI_RAI = file;
    try {
      assert.equal((await RelayAPI.fromEnv()).method, 'aes');
      delete process.env.RELAYAPI_RAI;
      await assert.rejects(RelayAPI.fromEnv(), isConfigError(/RELAYAPI_RAI/));
    } finally {
      if (saved === undefined) delete process.env.RELAYAPI_RAI;
      else process.env.RELAYAPI_RAI = saved;
    }
  });
});

describe('URLs (spec §7)', () => {
  const key = { method: 'aes', aes_key: 'ab'.repeat(32) };
  const urls = [
    [{}, 'http://127.0.0.1:8840'],
    [{ host: 'relay.example.com', port: 443 }, 'https://relay.example.com'],
    [{ host: 'relay.example.com', port: 80 }, 'http://relay.example.com'],
    [{ host: 'relay.example.com', port: 8443, scheme: 'https' }, 'https://relay.example.com:8443'],
    [{ host: 'relay.example.com', port: 443, scheme: 'http' }, 'http://relay.example.com:443'],
    [{ host: 'h', port: 9000, base_path: '/ai' }, 'http://h:9000/ai'],
    [{ host: 'h', port: 9000, base_path: '/ai/' }, 'http://h:9000/ai'],
    [{ host: 'h', port: 9000, base_path: '/' }, 'http://h:9000'],
    [{ host: '::1', port: 9000 }, 'http://[::1]:9000'],
    // RelayAPI 1.x: the scheme inside host (it wins over the port-443 rule), base_path with a trailing "/".
    [{ host: 'http://localhost', port: 8840, base_path: '/relayapi/' }, 'http://localhost:8840/relayapi'],
    [{ host: 'HTTPS://Relay.example.com', port: 8443 }, 'https://Relay.example.com:8443'],
    [{ host: 'http://relay.example.com', port: 443 }, 'http://relay.example.com:443'],
    [{ host: 'https://relay.example.com' }, 'https://relay.example.com:8840'],
    [{ host: 'https://relay.example.com', scheme: 'https', port: 443 }, 'https://relay.example.com'],
    [{ host: 'http://relay.example.com:9000' }, 'http://relay.example.com:9000'],
    [{ host: 'http://relay.example.com:9000', port: 9000 }, 'http://relay.example.com:9000'],
    [{ host: 'http://[::1]:9000' }, 'http://[::1]:9000'],
    [{ host: 'http://10.0.0.1', port: 80 }, 'http://10.0.0.1'],
  ];
  for (const [server, expected] of urls) {
    it(`${JSON.stringify(server)} → ${expected}`, () => {
      assert.equal(new RelayAPI({ server, crypto: key }).relayURL, expected);
    });
  }

  const badServers = [
    [{ host: 'https://relay.example.com', scheme: 'http' }, /server\.host/],
    [{ host: 'http://relay.example.com/api' }, /server\.host/],
    [{ host: 'http://relay.example.com?x=1' }, /server\.host/],
    [{ host: 'http://user@relay.example.com' }, /server\.host/],
    [{ host: 'http://relay.example.com#f' }, /server\.host/],
    [{ host: 'http://' }, /server\.host/],
    [{ host: 'ftp://relay.example.com' }, /server\.host/],
    [{ host: 'http://relay.example.com:9000', port: 9001 }, /server\.host/],
    [{ host: 'http://relay.example.com:70000' }, /port/],
    [{ host: 'relay.example.com/api' }, /server\.host/],
    [{ base_path: 'ai/' }, /base_path/],
    [{ base_path: '/a//b' }, /base_path/],
    [{ base_path: '//' }, /base_path/],
    [{ base_path: '/a?b' }, /base_path/],
    [{ base_path: '/a b' }, /base_path/],
    [{ scheme: 'ftp' }, /scheme/],
  ];
  for (const [server, re] of badServers) {
    it(`rejects ${JSON.stringify(server)}`, () => {
      assert.throws(() => new RelayAPI({ server, crypto: key }), isConfigError(re));
    });
  }

  const relay = new RelayAPI({ server: { host: 'relay.example.com', port: 443, base_path: '/ai' }, crypto: key });
  it('flavors', () => {
    const t = { value: 'aaa.bbb.ccc.ddd.eee', id: 'x'.repeat(22), expiresAt: new Date() };
    assert.equal(relay.baseURL(t), 'https://relay.example.com/ai/t/aaa.bbb.ccc.ddd.eee/v1');
    assert.equal(relay.baseURL(t.value, { flavor: 'openai' }), 'https://relay.example.com/ai/t/aaa.bbb.ccc.ddd.eee/v1');
    assert.equal(relay.baseURL(t, { flavor: 'anthropic' }), 'https://relay.example.com/ai/t/aaa.bbb.ccc.ddd.eee');
    assert.equal(relay.baseURL(t.value, 'gemini'), 'https://relay.example.com/ai/t/aaa.bbb.ccc.ddd.eee');
  });
  it('rejects an unknown flavor or a non-token', () => {
    assert.throws(() => relay.baseURL('a.b.c.d.e', { flavor: 'azure' }), { code: 'invalid_argument', param: 'flavor' });
    assert.throws(() => relay.baseURL('has/slash'), { code: 'invalid_argument', param: 'token' });
    assert.throws(() => relay.baseURL({}), { code: 'invalid_argument' });
  });
  it('generateURL with the anthropic flavor', async () => {
    const url = await relay.generateURL({ provider: 'anthropic', flavor: 'anthropic', apiKey: 'sk-ant' });
    assert.match(url, /^https:\/\/relay\.example\.com\/ai\/t\/[A-Za-z0-9_.-]+$/);
  });
  it('relayURL option overrides the .rai server section', () => {
    const r = new RelayAPI({ crypto: key }, { relayURL: 'https://public.example.com/relay/' });
    assert.equal(r.baseURL('a.b.c.d.e'), 'https://public.example.com/relay/t/a.b.c.d.e/v1');
    assert.throws(() => new RelayAPI({ crypto: key }, { relayURL: 'ftp://x' }), { code: 'invalid_argument' });
  });
});
