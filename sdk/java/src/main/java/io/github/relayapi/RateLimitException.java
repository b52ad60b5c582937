package io.github.relayapi;

import java.util.OptionalLong;

/**
 * HTTP 429: slow down ({@code rate_limited}, {@code call_limit_exceeded}, {@code
 * budget_exceeded}, {@code concurrency_limited}). {@link #retryAfterSeconds()} is the {@code
 * Retry-After} header when the relay sent one.
 */
public class RateLimitException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  private final Long retryAfter;

  /**
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   * @param retryAfterSeconds the {@code Retry-After} header in seconds, if any
   */
  public RateLimitException(
      String code, String message, String type, String body, OptionalLong retryAfterSeconds) {
    super(429, code, message, type, body);
    this.retryAfter = retryAfterSeconds.isPresent() ? retryAfterSeconds.getAsLong() : null;
  }

  /** Seconds to wait, from the {@code Retry-After} header. */
  public OptionalLong retryAfterSeconds() {
    return retryAfter == null ? OptionalLong.empty() : OptionalLong.of(retryAfter);
  }
}
