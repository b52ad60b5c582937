// The canonical streaming loop of the official `openai` npm package
// (openai-node), as a frontend developer writes it, against the relay.
// Run by e2e/test_budget_real_clients.py; `openai` is a devDependency of
// e2e/browser (npm ci there first).
//
// Environment: RELAY_BASE_URL (the relay's /v1 URL), RELAY_TOKEN (the relay
// token, sent as the API key), MODEL, PROMPT, EXTRA_HEADERS (JSON object).
// Prints one JSON line: {"text": …, "chunks": N, "usage_chunks": N}.
// Any exception (a TypeError from chunk.choices[0] on a chunk without
// choices included) exits non-zero with the stack on stderr.

import OpenAI from '../browser/node_modules/openai/index.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const client = new OpenAI({
  baseURL: env('RELAY_BASE_URL'),
  apiKey: env('RELAY_TOKEN'),
  maxRetries: 0,
  timeout: 30_000,
});

const stream = await client.chat.completions.create(
  {
    model: env('MODEL'),
    messages: [{ role: 'user', content: env('PROMPT') }],
    stream: true,
  },
  { headers: JSON.parse(process.env.EXTRA_HEADERS || '{}') },
);

let out = '';
let chunks = 0;
let usageChunks = 0;
for await (const chunk of stream) {
  out += chunk.choices[0].delta.content ?? '';
  chunks++;
  if (chunk.usage) usageChunks++;
}
process.stdout.write(JSON.stringify({ text: out, chunks, usage_chunks: usageChunks }) + '\n');
