// An Express backend that hands the browser a fresh relay base URL. The real
// API key stays on the server; the browser only ever sees a short-lived token
// limited to a few calls, one model, and this page's origin.
//
//   cp .env.example .env   # then fill in OPENAI_API_KEY and RELAYAPI_RAI
//   npm run build && node examples/express-server.js
//   open http://localhost:3000
import 'dotenv/config';
import express from 'express';
import { RelayAPI, RelayAPIError } from 'relayapi';

const port = Number(process.env.PORT || 3000);
const model = process.env.CHAT_MODEL || 'gpt-4o-mini';
const relay = await RelayAPI.fromEnv();
const app = express();

// In a real app: authenticate the user first, and use their id as `sub`.
app.get('/api/relay-url', async (req, res) => {
  try {
    const token = await relay.createToken({
      provider: process.env.RELAYAPI_PROVIDER || 'openai',
      apiKey: process.env.OPENAI_API_KEY,
      expiresIn: 300,
      maxCalls: 5,
      rpm: 10,
      maxTokens: 300,
      models: [model],
      paths: ['/v1/chat/completions'],
      origins: [`http://localhost:${port}`],
      sub: 'demo-user',
    });
    res.json({ baseURL: relay.baseURL(token), model, expiresAt: token.expiresAt });
  } catch (err) {
    const status = err instanceof RelayAPIError && err.code === 'invalid_argument' ? 400 : 500;
    res.status(status).json({ error: { message: err.message, code: err.code } });
  }
});

// A page that asks the backend for a base URL, then calls the relay directly,
// the way the official openai client would (POST {baseURL}/chat/completions).
app.get('/', (req, res) => {
  res.type('html').send(`<!doctype html>
<meta charset="utf-8"><title>RelayAPI demo</title>
<input id="q" value="Write a haiku about relays" size="50"> <button id="go">Ask</button>
<pre id="out"></pre>
<script type="module">
  document.getElementById('go').onclick = async () => {
    const out = document.getElementById('out');
    const { baseURL, model } = await (await fetch('/api/relay-url')).json();
    const res = await fetch(baseURL + '/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: document.getElementById('q').value }] }),
    });
    if (!res.ok) { out.textContent = await res.text(); return; }
    out.textContent = '';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      const events = buf.split('\\n\\n');
      buf = events.pop();
      for (const ev of events) {
        const data = ev.replace(/^data: /, '');
        if (data === '[DONE]') continue;
        try { out.textContent += JSON.parse(data).choices[0]?.delta?.content ?? ''; } catch {}
      }
    }
  };
</script>`);
});

app.listen(port, () => console.log(`http://localhost:${port} (relay at ${relay.relayURL})`));
