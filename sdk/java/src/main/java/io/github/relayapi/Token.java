package io.github.relayapi;

import java.time.Instant;
import java.util.Map;

/**
 * A minted token.
 *
 * @param value the token (a compact JWE): put it in the base URL ({@link RelayAPI#baseUrl(Token)})
 *     or an {@code Authorization: Bearer} header
 * @param id the token id ({@code jti}), for {@link AdminClient#usage(String)} and {@link
 *     AdminClient#revoke(String)}
 * @param expiresAt when it expires ({@code exp})
 * @param claims the claims inside (read-only, JSON forms: {@link String}, {@link Long}, {@link
 *     java.util.List}, {@link Map}); includes {@code api_key}
 */
public record Token(String value, String id, Instant expiresAt, Map<String, Object> claims) {
  /** Checks the components; {@code claims} is kept as given (the SDK passes an unmodifiable map). */
  public Token {
    if (value == null || id == null || expiresAt == null || claims == null) {
      throw new NullPointerException("value, id, expiresAt and claims are required");
    }
  }

  /** Never the token value or the claims (they are credentials): {@code Token[id=…, expiresAt=…]}. */
  @Override
  public String toString() {
    return "Token[id=" + id + ", expiresAt=" + expiresAt + "]";
  }
}
