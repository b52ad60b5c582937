// Doc tests (issue 17 contract §4): the JavaScript code blocks of the READMEs and
// the migration guide run against the real relay, so they stay true.
//
// A fenced code block whose previous non-blank line is `<!-- doctest: KIND -->` is
// extracted. This file runs the kinds `js` (a complete ES module script: it must exit
// 0 within 60 s) and `js-express` (an Express app listening on $PORT: the harness GETs
// /api/ai-session with an Origin and a user header, then chats through the returned
// baseURL with the official `openai` client). Other kinds (python, python-fastapi)
// belong to the Python SDK's doc tests.
//
// Every block gets: a fresh working directory holding default.rai, an aes key file in
// the exact 1.x form, which the relay under test (base path /relayapi, providers openai
// and dashscope → the Go mock provider) also loads; OPENAI_API_KEY; RELAYAPI_RAI (the
// path of that default.rai); PORT for server kinds. Blocks are written to
// test/.doctest/ inside this package, so `import … from 'relayapi'` resolves to this
// package (self-reference) and `openai` / `express` to its node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { freePort, here, repoRoot, start, startV1Relay, stop, stopChildren, tempDir } from './helpers.mjs';

/** [file (from the repository root), kind, minimum number of marked blocks of that kind]. */
const DOC_FILES = [
  ['README.md', 'js-express', 1],
  ['README_CN.md', 'js-express', 1],
  ['docs/migrating-from-1.x.md', 'js', 1],
  ['docs/migrating-from-1.x_CN.md', 'js', 1],
  ['sdk/js/README.md', 'js', 2],
  ['sdk/js/README.md', 'js-express', 1],
  ['sdk/js/README_CN.md', 'js', 2],
  ['sdk/js/README_CN.md', 'js-express', 1],
];
const KINDS = new Set(['js', 'js-express']);

const OPENAI_API_KEY = 'sk-doctest-0000000000000000';
const ORIGIN = 'https://app.example.com';
const SCRIPT_TIMEOUT_MS = 60_000;

const execFileP = promisify(execFile);
const scratch = join(here, '.doctest');
const cleanScratch = () => rmSync(scratch, { recursive: true, force: true });
process.on('exit', cleanScratch);

/**
 * The marked code blocks of a Markdown text: [{ kind, code, line }]. Throws on a
 * marker that is not followed by a code block (a marker must not silently vanish).
 */
function extractBlocks(markdown) {
  const lines = markdown.split(/\r?\n/);
  const marker = /^\s*<!--\s*doctest:\s*([A-Za-z0-9_-]+)\s*-->\s*$/;
  const blocks = [];
  let pending; // { kind, line }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (open) {
      const [, indent, fence] = open;
      const body = [];
      let j = i + 1;
      const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      for (; j < lines.length && !close.test(lines[j]); j++) {
        body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
      }
      if (pending) blocks.push({ kind: pending.kind, code: `${body.join('\n')}\n`, line: i + 1 });
      pending = undefined;
      i = j;
      continue;
    }
    if (line.trim() === '') continue;
    if (pending)
      throw new Error(`line ${pending.line}: <!-- doctest: ${pending.kind} --> is not followed by a code block`);
    const m = marker.exec(line);
    if (m) pending = { kind: m[1], line: i + 1 };
  }
  if (pending)
    throw new Error(`line ${pending.line}: <!-- doctest: ${pending.kind} --> is not followed by a code block`);
  return blocks;
}

let env;
before(async () => {
  cleanScratch();
  await mkdir(scratch, { recursive: true });
  env = await startV1Relay();
});
after(async () => {
  await stopChildren();
  cleanScratch();
});

/** A fresh working directory with default.rai, the script file, and the environment. */
async function prepare(file, block) {
  const cwd = await tempDir('relayapi-doctest-');
  const rai = join(cwd, 'default.rai');
  await copyFile(env.raiFile, rai);
  const script = join(scratch, `${file.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.mjs`);
  await writeFile(script, block.code);
  return { cwd, script, env: { ...process.env, OPENAI_API_KEY, RELAYAPI_RAI: rai } };
}

const relayLog = () => env.proc.log().split('\n').slice(-20).join('\n');

async function runScript(file, block) {
  const { cwd, script, env: childEnv } = await prepare(file, block);
  try {
    await execFileP(process.execPath, [script], { cwd, env: childEnv, timeout: SCRIPT_TIMEOUT_MS });
  } catch (e) {
    const why = e.killed ? `did not exit within ${SCRIPT_TIMEOUT_MS / 1000} s` : `exited with ${e.code}`;
    throw new Error(
      `${file}:${block.line} (${block.kind}) ${why}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}\n--- relay log (tail)\n${relayLog()}`,
    );
  }
}

async function runExpress(file, block) {
  const { cwd, script, env: childEnv } = await prepare(file, block);
  const port = await freePort();
  const proc = start(process.execPath, [script], `${file}:${block.line}`, {
    cwd,
    env: { ...childEnv, PORT: String(port) },
  });
  const fail = (what) =>
    new Error(
      `${file}:${block.line} (${block.kind}): ${what}\n--- app output\n${proc.log()}\n--- relay log (tail)\n${relayLog()}`,
    );
  try {
    let exited;
    proc.exited.then((c) => (exited = c));
    const url = `http://127.0.0.1:${port}/api/ai-session`;
    const headers = { Origin: ORIGIN, 'X-User-Id': 'doctest-user' };
    let res;
    for (const deadline = Date.now() + 30_000; res === undefined && Date.now() < deadline;) {
      if (exited !== undefined) throw fail(`the app exited with ${exited} before answering`);
      try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (res === undefined) throw fail(`no answer on ${url} within 30 s`);
    const text = await res.text();
    if (res.status !== 200) throw fail(`GET /api/ai-session answered ${res.status}: ${text}`);
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw fail(`GET /api/ai-session did not answer JSON: ${text}`);
    }
    if (typeof body.baseURL !== 'string') throw fail(`no baseURL in ${text}`);
    assert.ok(body.baseURL.startsWith(`${env.relayURL}/t/`), `baseURL ${body.baseURL} is not on the relay`);
    const client = new OpenAI({
      baseURL: body.baseURL,
      apiKey: 'unused',
      defaultHeaders: { Origin: ORIGIN },
      maxRetries: 0,
      timeout: 20_000,
    });
    let answer;
    try {
      answer = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say hello' }],
      });
    } catch (e) {
      throw fail(`chat through ${body.baseURL.replace(/\/t\/[^/]+/, '/t/…')} failed: ${e.status} ${e.message}`);
    }
    assert.ok(answer.choices[0]?.message?.content?.length > 0, 'empty answer');
  } finally {
    await stop(proc);
  }
}

for (const file of [...new Set(DOC_FILES.map(([f]) => f))]) {
  describe(file, () => {
    const path = join(repoRoot, file);
    const exists = existsSync(path);
    const blocks = exists ? extractBlocks(readFileSync(path, 'utf8')) : [];

    for (const [, kind, min] of DOC_FILES.filter(([f]) => f === file)) {
      it(`has at least ${min} <!-- doctest: ${kind} --> block(s)`, () => {
        assert.ok(exists, `${file} does not exist yet (issue 17: the lead writes it with its marked blocks)`);
        const n = blocks.filter((b) => b.kind === kind).length;
        assert.ok(n >= min, `${file} has ${n} block(s) marked <!-- doctest: ${kind} -->, expected at least ${min}`);
      });
    }

    for (const block of blocks.filter((b) => KINDS.has(b.kind))) {
      it(`line ${block.line} (${block.kind}) runs against the relay`, () =>
        block.kind === 'js' ? runScript(file, block) : runExpress(file, block));
    }
  });
}

describe('extractBlocks', () => {
  it('takes the blocks whose previous non-blank line is a marker, and only those', () => {
    const md = [
      '<!-- doctest: js -->',
      '',
      '```js',
      'console.log(1);',
      '```',
      '',
      '```js',
      'not marked',
      '```',
      '<!-- doctest: python -->',
      '~~~~python',
      'print("```")',
      '~~~~',
      '- item',
      '  <!-- doctest: js-express -->',
      '  ```js',
      '  app.listen();',
      '  ```',
    ].join('\n');
    assert.deepEqual(extractBlocks(md), [
      { kind: 'js', code: 'console.log(1);\n', line: 3 },
      { kind: 'python', code: 'print("```")\n', line: 11 },
      { kind: 'js-express', code: 'app.listen();\n', line: 16 },
    ]);
  });

  it('a marker without a code block is an error', () => {
    assert.throws(() => extractBlocks('<!-- doctest: js -->\ntext\n```js\nx\n```\n'), /line 1: .* not followed/);
    assert.throws(() => extractBlocks('text\n<!-- doctest: js -->\n'), /line 2/);
  });
});
