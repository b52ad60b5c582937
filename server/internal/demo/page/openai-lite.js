// A small stand-in for the official `openai` package, covering only what the
// playground's app.js uses: `new OpenAI({baseURL, apiKey})`,
// `chat.completions.create({..., stream: true})` as an async iterable of
// chunks, and errors shaped like the package's (`status`, `code`, `error`).
// It sends the same request the package sends. `relayapi demo` serves it so
// that the Go binary carries no npm code; examples/web runs the same page with
// the real package.
export class OpenAIError extends Error {}

export class APIError extends OpenAIError {
  constructor(status, error, fallback) {
    super(`${status} ${error?.message ?? fallback ?? 'status code (no body)'}`);
    this.name = 'APIError';
    this.status = status;
    this.error = error;
    this.code = error?.code;
    this.type = error?.type;
  }
}

export class APIConnectionError extends OpenAIError {
  constructor(cause) {
    super('Connection error.', { cause });
    this.name = 'APIConnectionError';
  }
}

export default class OpenAI {
  constructor({ baseURL, apiKey, timeout = 600_000 } = {}) {
    if (!baseURL) throw new OpenAIError('baseURL is required');
    this.baseURL = baseURL.replace(/\/+$/, '');
    this.apiKey = apiKey;
    this.timeout = timeout;
    this.chat = { completions: { create: (body, options) => this.#post('/chat/completions', body, options) } };
  }

  async #post(path, body, options = {}) {
    const signals = [AbortSignal.timeout(this.timeout), options.signal].filter(Boolean);
    let res;
    try {
      res = await fetch(this.baseURL + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${this.apiKey}`,
        },
        body: JSON.stringify(body),
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      });
    } catch (err) {
      throw new APIConnectionError(err);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw new APIError(res.status, parsed?.error ?? parsed, text);
    }
    return body.stream ? events(res.body) : res.json();
  }
}

// events yields the JSON of every `data:` line of a text/event-stream until
// `data: [DONE]`.
async function* events(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        if (data) yield JSON.parse(data);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
