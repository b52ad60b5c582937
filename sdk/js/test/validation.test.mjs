// Argument validation: every bad option throws RelayAPIError('invalid_argument')
// naming the option, before any encryption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayAPI, RelayAPIError, isIPOrCIDR, isValidOrigin, validateClaims } from '../dist/index.js';
import { makeAesFile } from './helpers.mjs';

const relay = new RelayAPI(makeAesFile());

function rejectsWith(options, param, pattern) {
  return assert.rejects(relay.createToken(options), (e) => {
    assert.ok(e instanceof RelayAPIError, `not a RelayAPIError: ${e}`);
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.param, param);
    assert.ok(e.message.startsWith(`${param}: `), e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

const bad = [
  // [description, options, param named in the error]
  ['unknown option', { max_calls: 3 }, 'max_calls', /did you mean "maxCalls"/],
  ['unknown option (typo)', { maxCall: 3 }, 'maxCall', /unknown option/],
  ['provider with capitals', { provider: 'OpenAI' }, 'provider'],
  ['provider empty', { provider: '' }, 'provider'],
  ['provider too long', { provider: 'a'.repeat(65) }, 'provider'],
  ['apiKey with a space', { apiKey: 'sk abc' }, 'apiKey'],
  ['apiKey empty', { apiKey: '' }, 'apiKey'],
  ['apiKey non-ASCII', { apiKey: 'sk-é' }, 'apiKey'],
  ['apiKey too long', { apiKey: 'k'.repeat(4097) }, 'apiKey'],
  ['apiKey not a string', { apiKey: 123 }, 'apiKey'],
  ['expiresIn zero', { expiresIn: 0 }, 'expiresIn'],
  ['expiresIn negative', { expiresIn: -5 }, 'expiresIn'],
  ['expiresIn fraction', { expiresIn: 1.5 }, 'expiresIn'],
  ['expiresIn string', { expiresIn: '1h' }, 'expiresIn'],
  ['maxCalls zero', { maxCalls: 0 }, 'maxCalls', /between 1 and 2\^53-1/],
  ['maxCalls fraction', { maxCalls: 2.5 }, 'maxCalls'],
  ['maxCalls too big', { maxCalls: 2 ** 53 }, 'maxCalls'],
  ['maxCalls string', { maxCalls: '3' }, 'maxCalls'],
  ['maxCalls null', { maxCalls: null }, 'maxCalls', /null/],
  ['maxCalls NaN', { maxCalls: NaN }, 'maxCalls'],
  ['rpm too big', { rpm: 1_000_001 }, 'rpm'],
  ['rpm zero', { rpm: 0 }, 'rpm'],
  ['concurrency too big', { concurrency: 100_001 }, 'concurrency'],
  ['maxTokens too big', { maxTokens: 2 ** 31 }, 'maxTokens'],
  ['tokenBudget zero', { tokenBudget: 0 }, 'tokenBudget'],
  ['tokenBudget Infinity', { tokenBudget: Infinity }, 'tokenBudget'],
  ['maxSessionSeconds zero', { maxSessionSeconds: 0 }, 'maxSessionSeconds', /between 1 and 86400/],
  ['maxSessionSeconds negative', { maxSessionSeconds: -1 }, 'maxSessionSeconds'],
  ['maxSessionSeconds too big', { maxSessionSeconds: 86_401 }, 'maxSessionSeconds', /between 1 and 86400/],
  ['maxSessionSeconds fraction', { maxSessionSeconds: 60.5 }, 'maxSessionSeconds'],
  ['maxSessionSeconds string', { maxSessionSeconds: '600' }, 'maxSessionSeconds'],
  ['maxSessionSeconds null', { maxSessionSeconds: null }, 'maxSessionSeconds', /null/],
  [
    'max_session_seconds (wire name)',
    { max_session_seconds: 60 },
    'max_session_seconds',
    /did you mean "maxSessionSeconds"/,
  ],
  ['models empty', { models: [] }, 'models', /omit it/],
  ['models not an array', { models: 'gpt-4o' }, 'models'],
  ['models entry empty', { models: [''] }, 'models[0]'],
  ['models entry too long', { models: ['m'.repeat(257)] }, 'models[0]'],
  ['models entry not a string', { models: ['ok', 5] }, 'models[1]'],
  ['models too many', { models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, 'models'],
  ['paths without slash', { paths: ['v1/chat'] }, 'paths[0]'],
  ['ips bad', { ips: ['300.1.1.1'] }, 'ips[0]'],
  ['ips bad CIDR', { ips: ['10.0.0.0/33'] }, 'ips[0]'],
  ['ips host name', { ips: ['example.com'] }, 'ips[0]'],
  ['origins with path', { origins: ['https://a.example.com/'] }, 'origins[0]'],
  ['origins upper case', { origins: ['https://App.example.com'] }, 'origins[0]'],
  ['origins bare host', { origins: ['example.com'] }, 'origins[0]'],
  ['modelMap empty', { modelMap: {} }, 'modelMap'],
  ['modelMap value not a string', { modelMap: { a: 1 } }, 'modelMap["a"]'],
  ['modelMap empty value', { modelMap: { a: '' } }, 'modelMap["a"]'],
  ['modelMap array', { modelMap: [['a', 'b']] }, 'modelMap'],
  ['meta too many', { meta: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, 'meta'],
  ['meta key too long', { meta: { ['k'.repeat(65)]: 'v' } }, 'meta'],
  ['meta value too long', { meta: { k: 'v'.repeat(257) } }, 'meta["k"]'],
  ['sub empty', { sub: '' }, 'sub'],
  ['sub over 256 UTF-8 bytes', { sub: 'é'.repeat(129) }, 'sub', /bytes/],
  ['meta empty value', { meta: { k: '' } }, 'meta["k"]'],
  ['paths entry too long', { paths: ['/' + 'p'.repeat(1024)] }, 'paths[0]'],
  ['sub too long', { sub: 's'.repeat(257) }, 'sub'],
  ['sub lone surrogate', { sub: 'a\uD800' }, 'sub', /Unicode/],
  [
    'notBefore after expiry',
    { expiresIn: 60, notBefore: new Date(Date.now() + 3600_000) },
    'notBefore',
    /before the expiry/,
  ],
  ['notBefore negative', { notBefore: -1 }, 'notBefore'],
  ['notBefore invalid Date', { notBefore: new Date('nope') }, 'notBefore'],
  ['jti too short', { jti: 'short' }, 'jti'],
  ['jti bad characters', { jti: 'has spaces in it, sadly' }, 'jti'],
  ['extra without x_ prefix', { extra: { trace: 1 } }, 'extra.trace'],
  ['extra null value', { extra: { x_a: null } }, 'extra.x_a'],
  ['extra not JSON', { extra: { x_f: () => 1 } }, 'extra.x_f'],
  ['extra not an object', { extra: 'x' }, 'extra'],
];

describe('createToken argument validation', () => {
  for (const [what, options, param, pattern] of bad) {
    it(`rejects ${what}`, () => rejectsWith(options, param, pattern));
  }

  it('never echoes the API key in a message', async () => {
    await assert.rejects(relay.createToken({ apiKey: 'sk-secret value' }), (e) => {
      assert.ok(!e.message.includes('sk-secret'));
      return true;
    });
  });

  it('accepts the boundaries', () => {
    const c = relay.buildClaims({
      provider: 'a'.repeat(64),
      apiKey: '!'.repeat(4096),
      maxCalls: Number.MAX_SAFE_INTEGER,
      tokenBudget: Number.MAX_SAFE_INTEGER,
      rpm: 1_000_000,
      concurrency: 100_000,
      maxTokens: 2 ** 31 - 1,
      maxSessionSeconds: 86_400,
      sub: 'é'.repeat(128),
      models: ['*'],
      ips: ['::1', '::ffff:192.0.2.1', '0.0.0.0/0', '::/0'],
      origins: ['*', 'http://[::1]:8080', 'chrome-extension://abcdef'],
      meta: { ['k'.repeat(64)]: 'v'.repeat(256) },
      paths: ['/' + 'p'.repeat(1023)],
      notBefore: 0,
      jti: 'a'.repeat(16),
    });
    assert.equal(c.jti, 'a'.repeat(16));
    assert.equal(c.nbf, 0);
    assert.equal(c.max_session_seconds, 86_400);
    assert.equal(relay.buildClaims({ maxSessionSeconds: 1 }).max_session_seconds, 1);
  });

  it('treats undefined options as absent', async () => {
    const claims = relay.buildClaims({ maxCalls: undefined, apiKey: undefined });
    assert.deepStrictEqual(Object.keys(claims).sort(), ['exp', 'iat', 'jti', 'provider']);
  });

  it('buildClaims uses wire names and the given clock', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const c = relay.buildClaims({ apiKey: 'k', maxCalls: 2, tokenBudget: 9, modelMap: { a: 'b' }, expiresIn: 10 }, now);
    assert.equal(c.iat, now.getTime() / 1000);
    assert.equal(c.exp, c.iat + 10);
    assert.equal(c.api_key, 'k');
    assert.equal(c.max_calls, 2);
    assert.equal(c.token_budget, 9);
    assert.deepStrictEqual(c.model_map, { a: 'b' });
  });
});

describe('validateClaims (wire names)', () => {
  const base = { jti: 'j'.repeat(22), exp: 2000000000, provider: 'openai' };
  it('accepts a minimal set', () => validateClaims(base));
  const cases = [
    ['unknown claim', { ...base, max_call: 1 }, /max_call: unknown claim/],
    ['missing jti', { exp: 1, provider: 'p' }, /jti: is required/],
    ['missing exp', { jti: base.jti, provider: 'p' }, /exp: is required/],
    ['missing provider', { jti: base.jti, exp: 1 }, /provider: is required/],
    ['null claim', { ...base, sub: null }, /sub: must not be null/],
    ['x_ null', { ...base, x_a: null }, /x_a: must not be null/],
    ['nbf not before exp', { ...base, nbf: base.exp }, /nbf/],
    ['exp zero', { ...base, exp: 0 }, /exp/],
    ['not an object', [base], /claims: must be an object/],
  ];
  for (const [what, claims, re] of cases) {
    it(`rejects ${what}`, () => assert.throws(() => validateClaims(claims), re));
  }
  it('keeps x_ claims of any JSON type', () => validateClaims({ ...base, x_a: [1, { b: 2.5 }], x_b: false }));
});

describe('IP and origin syntax', () => {
  const ips = {
    good: [
      '203.0.113.7',
      '10.0.0.0/8',
      '2001:db8::/32',
      '::',
      '::1',
      'fe80::1:2',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4',
      '1::/128',
    ],
    bad: [
      '',
      '1.2.3',
      '01.2.3.4',
      '1.2.3.4/',
      '1.2.3.4/01',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '::/129',
      'g::1',
      '1.2.3.4 ',
    ],
  };
  for (const ip of ips.good) it(`accepts ip ${ip}`, () => assert.ok(isIPOrCIDR(ip)));
  for (const ip of ips.bad) it(`rejects ip ${JSON.stringify(ip)}`, () => assert.ok(!isIPOrCIDR(ip)));
  const origins = {
    good: [
      '*',
      'https://example.com',
      'http://localhost:3000',
      'https://*.example.com',
      'http://[::1]:80',
      'http://127.0.0.1:8080',
    ],
    bad: [
      'https://example.com/',
      'https://example.com/path',
      'HTTPS://example.com',
      'https://*.',
      'example.com',
      'https://ex ample.com',
      'https://a.com:0',
      'https://a.com:70000',
      'https://*.[::1]',
      'http://[1.2.3.4]',
    ],
  };
  for (const o of origins.good) it(`accepts origin ${o}`, () => assert.ok(isValidOrigin(o)));
  for (const o of origins.bad) it(`rejects origin ${JSON.stringify(o)}`, () => assert.ok(!isValidOrigin(o)));
});
