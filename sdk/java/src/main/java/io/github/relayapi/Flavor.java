package io.github.relayapi;

/**
 * Which vendor SDK a base URL is for (docs/token-format.md §7).
 *
 * <ul>
 *   <li>{@link #OPENAI}: {@code {relay}/t/{token}/v1} (the OpenAI SDKs append {@code
 *       /chat/completions}, …)
 *   <li>{@link #ANTHROPIC}: {@code {relay}/t/{token}} (the Anthropic SDKs append {@code /v1/messages})
 *   <li>{@link #GEMINI}: {@code {relay}/t/{token}} (the Gemini SDKs append {@code /v1beta/…})
 * </ul>
 */
public enum Flavor {
  /** The OpenAI API and OpenAI-compatible clients. */
  OPENAI,
  /** The Anthropic API. */
  ANTHROPIC,
  /** The Gemini API. */
  GEMINI
}
