"""Mint a RelayAPI token, then call chat, streaming chat, images and embeddings through the relay.

The real provider key stays on this machine: it travels *inside* the
encrypted token, and the relay swaps it in when it forwards each call.

Setup (a relay running with the matching key file, see the project README)::

    pip install "./sdk/python[openai]"    # from a clone of the repository
    export OPENAI_API_KEY=sk-...          # or put it in a .env file next to this script
    python examples/chat.py --rai default.rai

Against the mock provider (no real key needed)::

    python examples/chat.py --rai default.rai --provider mock --api-key sk-mock

Environment: ``OPENAI_API_KEY`` (or ``--api-key``), ``RELAYAPI_RAI`` (path or
inline JSON, instead of ``--rai``), ``RELAYAPI_URL`` (instead of ``--relay-url``),
``CHAT_MODEL``, ``EMBEDDING_MODEL``, ``IMAGE_MODEL``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from relayapi import RelayAPI


def load_dotenv(path: Path) -> None:
    """Tiny .env reader (KEY=VALUE lines); python-dotenv is used when installed."""
    try:
        from dotenv import load_dotenv as _load  # type: ignore[import-not-found]
    except ImportError:
        if not path.is_file():
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                os.environ.setdefault(key.strip(), value.strip().strip("'\""))
    else:
        _load(path)


def main() -> int:
    load_dotenv(Path.cwd() / ".env")
    load_dotenv(Path(__file__).with_name(".env"))

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rai", help="backend .rai key file (default: $RELAYAPI_RAI)")
    parser.add_argument("--relay-url", default=os.environ.get("RELAYAPI_URL"))
    parser.add_argument("--provider", default="openai", help="provider name on the relay")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"))
    parser.add_argument("--chat-model", default=os.environ.get("CHAT_MODEL", "gpt-4o-mini"))
    parser.add_argument(
        "--embedding-model", default=os.environ.get("EMBEDDING_MODEL", "text-embedding-3-small")
    )
    parser.add_argument("--image-model", default=os.environ.get("IMAGE_MODEL", "dall-e-2"))
    parser.add_argument("--skip-images", action="store_true", help="images cost more: skip them")
    args = parser.parse_args()

    if args.rai:
        relay = RelayAPI(args.rai, relay_url=args.relay_url)
    else:
        relay = RelayAPI.from_env(relay_url=args.relay_url)

    # One short-lived token for this session: 10 calls, these models, 15 minutes.
    # api_key=None means "the relay holds the credential for this provider".
    token = relay.create_token(
        provider=args.provider,
        api_key=args.api_key,
        expires_in=15 * 60,
        max_calls=10,
        models=[args.chat_model, args.embedding_model, args.image_model],
        meta={"example": "chat.py"},
    )
    print(f"token {token.id} ({len(token.value)} chars), expires {token.expires_at:%H:%M:%S} UTC")
    print(f"base URL: {relay.base_url(token)[:60]}…")

    client = relay.openai_client(token)

    # 1. Chat
    reply = client.chat.completions.create(
        model=args.chat_model,
        messages=[{"role": "user", "content": "Say hello in five words."}],
    )
    print("\nchat:", reply.choices[0].message.content)

    # 2. Streaming chat
    print("\nstreaming chat: ", end="", flush=True)
    stream = client.chat.completions.create(
        model=args.chat_model,
        messages=[{"role": "user", "content": "Count from one to five."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
        if chunk.usage:
            print(f"\n  ({chunk.usage.total_tokens} tokens)")

    # 3. Embeddings
    emb = client.embeddings.create(model=args.embedding_model, input="RelayAPI")
    print(f"\nembedding: {len(emb.data[0].embedding)} dimensions")

    # 4. Images
    if not args.skip_images:
        image = client.images.generate(
            model=args.image_model, prompt="a paper plane over a city", size="256x256", n=1
        )
        print("image:", image.data[0].url or f"<{len(image.data[0].b64_json or '')} base64 chars>")

    # Usage of this token, when the relay's admin key is available.
    if os.environ.get("RELAYAPI_ADMIN_KEY"):
        print("\nusage:", relay.usage(token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
