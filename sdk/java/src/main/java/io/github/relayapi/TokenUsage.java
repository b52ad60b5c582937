package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * What the relay knows about one token ({@code GET /admin/tokens/{jti}}, docs/openapi.yaml {@code
 * TokenUsage}). A limit the token does not carry is {@code null}, and so are times the relay does
 * not know (a token revoked before its first call).
 *
 * @param jti the token id
 * @param sub the token's end user; empty when it has none
 * @param calls calls spent (refunded calls not counted)
 * @param maxCalls the token's {@code max_calls}, or {@code null}
 * @param refunds calls given back because the provider failed before any byte reached the client
 * @param promptTokens prompt tokens used
 * @param completionTokens completion tokens used
 * @param tokensUsed prompt + completion tokens
 * @param tokenBudget the token's {@code token_budget}, or {@code null}
 * @param tokensReserved budget held by calls in flight
 * @param firstSeen first call, or {@code null}
 * @param lastSeen last call, or {@code null}
 * @param expiresAt the token's expiry, or {@code null}
 * @param revoked whether it is revoked
 * @param lastError error code of the token's last failed call, or {@code null}
 */
public record TokenUsage(
    String jti,
    String sub,
    long calls,
    Long maxCalls,
    long refunds,
    long promptTokens,
    long completionTokens,
    long tokensUsed,
    Long tokenBudget,
    long tokensReserved,
    Instant firstSeen,
    Instant lastSeen,
    Instant expiresAt,
    boolean revoked,
    String lastError) {

  static TokenUsage from(JsonNode n) {
    return new TokenUsage(
        JsonFields.text(n, "jti"),
        JsonFields.textOrEmpty(n, "sub"),
        JsonFields.number(n, "calls"),
        JsonFields.nullableNumber(n, "max_calls"),
        JsonFields.number(n, "refunds"),
        JsonFields.number(n, "prompt_tokens"),
        JsonFields.number(n, "completion_tokens"),
        JsonFields.number(n, "tokens_used"),
        JsonFields.nullableNumber(n, "token_budget"),
        JsonFields.number(n, "tokens_reserved"),
        JsonFields.instant(n, "first_seen"),
        JsonFields.instant(n, "last_seen"),
        JsonFields.instant(n, "expires_at"),
        n.path("revoked").asBoolean(false),
        JsonFields.text(n, "last_error"));
  }
}
