package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One line of the relay's request log ({@code GET /admin/requests}, docs/openapi.yaml {@code
 * RequestRecord}). Never bodies, keys or tokens.
 *
 * @param time when the request arrived
 * @param requestId the relay's request id ({@code x-relayapi-request-id})
 * @param jti the token id
 * @param sub the token's end user (may be empty)
 * @param provider the provider
 * @param model the model sent upstream; empty when none
 * @param path the path forwarded to the provider (no token, no query)
 * @param status the HTTP status answered
 * @param latencyMs milliseconds until the response ended
 * @param ttfbMs milliseconds until the first response byte
 * @param promptTokens prompt tokens
 * @param completionTokens completion tokens
 * @param estimated whether the counts are the relay's estimate
 * @param usageSource where the counts come from ({@code provider}, {@code estimate}, …), or {@code null}
 * @param bytesIn request bytes
 * @param bytesOut response bytes
 * @param errorCode the relay's error code, or {@code null} on success
 */
public record RequestRecord(
    Instant time,
    String requestId,
    String jti,
    String sub,
    String provider,
    String model,
    String path,
    int status,
    double latencyMs,
    double ttfbMs,
    long promptTokens,
    long completionTokens,
    boolean estimated,
    String usageSource,
    long bytesIn,
    long bytesOut,
    String errorCode) {

  static RequestRecord from(JsonNode n) {
    return new RequestRecord(
        JsonFields.instant(n, "time"),
        JsonFields.textOrEmpty(n, "request_id"),
        JsonFields.textOrEmpty(n, "jti"),
        JsonFields.textOrEmpty(n, "sub"),
        JsonFields.textOrEmpty(n, "provider"),
        JsonFields.textOrEmpty(n, "model"),
        JsonFields.textOrEmpty(n, "path"),
        (int) JsonFields.number(n, "status"),
        n.path("latency_ms").asDouble(0),
        n.path("ttfb_ms").asDouble(0),
        JsonFields.number(n, "prompt_tokens"),
        JsonFields.number(n, "completion_tokens"),
        n.path("estimated").asBoolean(false),
        JsonFields.text(n, "usage_source"),
        JsonFields.number(n, "bytes_in"),
        JsonFields.number(n, "bytes_out"),
        JsonFields.text(n, "error_code"));
  }
}
