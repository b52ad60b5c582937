// Every entry of testdata/vectors/keyfiles.json: the .rai files RelayAPI 1.x wrote
// load unchanged (scheme inside host, base_path with a trailing slash, aes_iv_seed),
// and the published 1.x example key is refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RelayAPI, RelayAPIClient, RelayAPIError } from '../dist/index.js';
import { readJSON, vectorsDir } from './helpers.mjs';

const { key_files: keyFiles } = await readJSON(join(vectorsDir, 'keyfiles.json'));

describe('testdata/vectors/keyfiles.json', () => {
  it('has entries', () => assert.ok(keyFiles.length >= 7));

  for (const v of keyFiles) {
    const path = join(vectorsDir, v.file);
    it(`${v.file}: ${v.comment}`, async () => {
      const warnings = [];
      const load = () => RelayAPI.fromFile(path, { onWarning: (m) => warnings.push(m) });
      if (v.error_contains) {
        await assert.rejects(load(), (e) => {
          assert.ok(e instanceof RelayAPIError, e);
          assert.equal(e.code, 'invalid_config');
          for (const s of v.error_contains)
            assert.ok(e.message.includes(s), `${JSON.stringify(s)} not in: ${e.message}`);
          return true;
        });
        assert.equal(warnings.length, 0, `no warning before the error: ${warnings}`);
        return;
      }
      const relay = await load();
      assert.equal(relay.relayURL, v.base_url);
      assert.equal(relay.baseURL('TOKEN'), v.openai_url);
      assert.equal(warnings.length, v.warnings.length, `warnings: ${JSON.stringify(warnings)}`);
      v.warnings.forEach((field, i) => assert.ok(warnings[i].includes(field), `${warnings[i]} should name ${field}`));
    });
  }

  it('the example-key message is the shared wording', async () => {
    await assert.rejects(RelayAPI.fromFile(join(vectorsDir, 'v1-example-key.rai')), {
      message:
        'invalid .rai config: crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens with it. Make a real key with: relayapi keygen --method aes --out default.rai',
    });
  });

  it('the example key is refused in any case, from an object and by the 1.x client', async () => {
    const rai = await readJSON(join(vectorsDir, 'v1-example-key.rai'));
    rai.crypto.aes_key = rai.crypto.aes_key.toUpperCase();
    assert.throws(() => new RelayAPI(rai, { onWarning: () => {} }), { code: 'invalid_config', message: /example key/ });
    assert.throws(() => new RelayAPIClient(join(vectorsDir, 'v1-example-key.rai')), /relayapi keygen/);
  });
});
