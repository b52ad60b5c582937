package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.OptionalLong;

/**
 * The relay (or, through it, the provider) answered an HTTP error. {@link #code()} is the
 * answer's {@code error.code} ({@code unauthorized}, {@code not_found}, {@code token_revoked}, …),
 * or {@code http_error} when the body had none; {@link #getMessage()} is its {@code error.message}.
 *
 * <p>Subclasses by status: {@link BadRequestException} (400), {@link AuthenticationException}
 * (401), {@link PermissionDeniedException} (403), {@link NotFoundException} (404), {@link
 * RateLimitException} (429), {@link ServerException} (5xx).
 */
public class RelayHttpException extends RelayAPIException {
  private static final long serialVersionUID = 1L;

  private final String type;
  private final String body;

  /**
   * @param status HTTP status
   * @param code the error code of the answer, or {@code http_error}
   * @param message the error message of the answer
   * @param type the error {@code type} of the answer, or {@code null}
   * @param body the raw body (may be empty)
   */
  public RelayHttpException(int status, String code, String message, String type, String body) {
    super(code, message, status, null);
    this.type = type;
    this.body = body == null ? "" : body;
  }

  /** The answer's {@code error.type} ({@code relayapi_error} for the relay's own errors), or {@code null}. */
  public String type() {
    return type;
  }

  /** The raw response body as text (may be empty). */
  public String body() {
    return body;
  }

  @Override
  public String toString() {
    return getClass().getName() + ": HTTP " + status() + " " + code() + ": " + getMessage();
  }

  /**
   * Builds the exception for an HTTP error answer: the subclass for {@code status}, with {@code
   * code}, {@code message} and {@code type} taken from an {@code {"error": {...}}} body.
   *
   * @param status HTTP status
   * @param body the response body (may be empty or not JSON)
   * @param retryAfter the {@code Retry-After} header, or {@code null}
   * @return the exception to throw
   */
  public static RelayHttpException fromResponse(int status, String body, String retryAfter) {
    String text = body == null ? "" : body;
    String message = "relay answered HTTP " + status;
    String code = "http_error";
    String type = null;
    try {
      JsonNode root = text.isBlank() ? null : Json.MAPPER.readTree(text);
      JsonNode err = root == null ? null : root.get("error");
      if (err != null && err.isObject()) {
        if (err.path("message").isTextual() && !err.path("message").asText().isEmpty()) {
          message = err.path("message").asText();
        }
        if (err.path("code").isTextual() && !err.path("code").asText().isEmpty()) {
          code = err.path("code").asText();
        }
        if (err.path("type").isTextual()) {
          type = err.path("type").asText();
        }
      }
    } catch (Exception notJson) {
      // keep the generic message
    }
    switch (status) {
      case 400:
        return new BadRequestException(code, message, type, text);
      case 401:
        return new AuthenticationException(code, message, type, text);
      case 403:
        return new PermissionDeniedException(code, message, type, text);
      case 404:
        return new NotFoundException(code, message, type, text);
      case 429:
        return new RateLimitException(code, message, type, text, parseRetryAfter(retryAfter));
      default:
        if (status >= 500) {
          return new ServerException(status, code, message, type, text);
        }
        return new RelayHttpException(status, code, message, type, text);
    }
  }

  private static OptionalLong parseRetryAfter(String value) {
    if (value == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
