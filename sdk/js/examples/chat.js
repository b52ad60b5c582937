// Chat, streaming chat, image generation and embeddings through the official
// `openai` client, pointed at a RelayAPI relay with a freshly minted token.
//
//   cp .env.example .env   # then fill in OPENAI_API_KEY and RELAYAPI_RAI
//   npm run build && node examples/chat.js
//
// The relay must be running (`relayapi serve --rai <relay key file>`) at the
// address in the .rai file's `server` section.
import 'dotenv/config';
import OpenAI from 'openai';
import { RelayAPI, RelayAPIError } from 'relayapi';

const provider = process.env.RELAYAPI_PROVIDER || 'openai';
const chatModel = process.env.CHAT_MODEL || 'gpt-4o-mini';
const imageModel = process.env.IMAGE_MODEL || 'dall-e-3';
const embeddingModel = process.env.EMBEDDING_MODEL || 'text-embedding-3-small';

async function main() {
  if (!process.env.OPENAI_API_KEY) throw new Error('set OPENAI_API_KEY in .env (see .env.example)');

  // Loads the .rai named by RELAYAPI_RAI (a path or the JSON itself).
  const relay = await RelayAPI.fromEnv();

  // A short-lived token: 10 calls, 10 minutes, only these models and endpoints.
  const token = await relay.createToken({
    provider,
    apiKey: process.env.OPENAI_API_KEY,
    expiresIn: 600,
    maxCalls: 10,
    models: [chatModel, imageModel, embeddingModel],
    paths: ['/v1/chat/completions', '/v1/images/generations', '/v1/embeddings'],
    meta: { example: 'chat.js' },
  });
  const baseURL = relay.baseURL(token); // {relay}/t/{token}/v1
  console.log(`token ${token.id}, expires ${token.expiresAt.toISOString()}`);

  // This is all a frontend needs: the official client with baseURL set.
  // The apiKey is not used by the relay when the token is in the URL.
  const client = new OpenAI({ baseURL, apiKey: 'relayapi' });

  // 1. Chat.
  const chat = await client.chat.completions.create({
    model: chatModel,
    messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
  });
  console.log('chat:', chat.choices[0].message.content);

  // 2. Streaming chat.
  process.stdout.write('stream: ');
  const stream = await client.chat.completions.create({
    model: chatModel,
    messages: [{ role: 'user', content: 'Count from 1 to 5.' }],
    stream: true,
  });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');
  process.stdout.write('\n');

  // 3. Image generation.
  const image = await client.images.generate({ model: imageModel, prompt: 'A paper boat on a calm lake', n: 1 });
  console.log('image:', image.data?.[0]?.url ?? '(base64 image)');

  // 4. Embeddings.
  const embedding = await client.embeddings.create({ model: embeddingModel, input: 'RelayAPI' });
  console.log('embedding dimensions:', embedding.data[0].embedding.length);

  // Or let the SDK build the client (async: `openai` is imported on demand).
  const client2 = await relay.openai({ token });
  const again = await client2.chat.completions.create({
    model: chatModel,
    messages: [{ role: 'user', content: 'One word: the opposite of up?' }],
  });
  console.log('relay.openai():', again.choices[0].message.content);
}

main().catch((err) => {
  if (err instanceof RelayAPIError) console.error(`RelayAPI error [${err.code}]: ${err.message}`);
  else if (err instanceof OpenAI.APIError)
    console.error(`relay/provider error ${err.status} [${err.code}]: ${err.message}`);
  else console.error(err);
  process.exitCode = 1;
});
