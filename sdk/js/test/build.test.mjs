// The built package: both entries load (ESM `import`, CJS `require`), through the
// package's own `exports`, and the core entry has no static Node-only import.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { here, vectorsDir } from './helpers.mjs';

const exec = promisify(execFile);
const pkgDir = join(here, '..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const dist = (f) => join(pkgDir, 'dist', f);
const EXPORTS = [
  'RelayAPI',
  'RelayAPIError',
  'validateClaims',
  'isValidOrigin',
  'isIPOrCIDR',
  'MAX_TOKEN_BYTES',
  'RelayAPIClient',
  'TokenGenerator',
];

describe('build output', () => {
  it('dist has ESM, CJS and both .d.ts files', () => {
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) assert.ok(existsSync(dist(f)), f);
    assert.equal(pkg.name, 'relayapi');
    assert.equal(pkg.exports['.'].import.default, './dist/index.js');
    assert.equal(pkg.exports['.'].require.default, './dist/index.cjs');
  });

  it('the ESM entry loads with import (by package name)', async () => {
    const mod = await import('relayapi');
    for (const name of EXPORTS) assert.ok(name in mod, name);
  });

  it('the CJS entry loads with require (by package name)', () => {
    const require = createRequire(import.meta.url);
    const mod = require('relayapi');
    for (const name of EXPORTS) assert.ok(name in mod, name);
    assert.equal(require.resolve('relayapi'), dist('index.cjs'));
  });

  // Loads a .rai with fromFile (dynamic import of node:fs/promises) and mints.
  const script = `
    const { RelayAPI } = require('relayapi');
    RelayAPI.fromFile(process.argv[1], { onWarning: () => {} })
      .then((r) => r.createToken({ apiKey: 'sk-cjs' }))
      .then((t) => console.log(t.value.split('.').length));
  `;
  const rai = join(vectorsDir, 'aes.rai');
  it('CJS mints in a plain CommonJS process', async () => {
    const { stdout } = await exec(process.execPath, ['-e', script, rai], { cwd: pkgDir });
    assert.equal(stdout.trim(), '5');
  });

  it('CJS works without require(esm) (jose is bundled into the CJS build)', async () => {
    const { stdout } = await exec(process.execPath, ['--no-experimental-require-module', '-e', script, rai], {
      cwd: pkgDir,
    });
    assert.equal(stdout.trim(), '5');
    assert.doesNotMatch(readFileSync(dist('index.cjs'), 'utf8'), /require\(["']jose["']\)/);
  });

  it('ESM mints in a plain ESM process', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script.replace("const { RelayAPI } = require('relayapi');", "import { RelayAPI } from 'relayapi';"),
        rai,
      ],
      { cwd: pkgDir },
    );
    assert.equal(stdout.trim(), '5');
  });

  it('the core entries import nothing Node-only statically', () => {
    for (const f of ['index.js', 'index.cjs']) {
      const src = readFileSync(dist(f), 'utf8');
      assert.doesNotMatch(
        src,
        /(from\s+|require\()["'](node:)?(fs|path|crypto|os|child_process|net|http|buffer|util)(\/[a-z]+)?["']/,
        f,
      );
      assert.doesNotMatch(src, /\bBuffer\./, f);
    }
  });

  it('types declare the public API', () => {
    const dts = readFileSync(dist('index.d.ts'), 'utf8');
    for (const name of [...EXPORTS, 'CreateTokenOptions', 'Token', 'Claims', 'RaiFile'])
      assert.match(dts, new RegExp(`\\b${name}\\b`));
  });
});
