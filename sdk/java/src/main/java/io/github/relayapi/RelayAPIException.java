package io.github.relayapi;

/**
 * The root of every exception the SDK throws (unchecked).
 *
 * <p>{@link #code()} is machine-readable: the SDK's own codes ({@code invalid_argument},
 * {@code invalid_config}, {@code token_too_large}, {@code missing_admin_key},
 * {@code network_error}, {@code http_error}) or, for an answer of the relay, the relay's
 * {@code error.code} ({@code unauthorized}, {@code not_found}, {@code invalid_token}, …), the same
 * codes the Python and JavaScript SDKs report. {@link #status()} is the HTTP status of a relay
 * answer, or 0 when there was none.
 *
 * <p>Messages never contain keys or tokens.
 */
public class RelayAPIException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final int status;

  /**
   * @param code machine-readable error code
   * @param message human-readable message (no secrets)
   */
  public RelayAPIException(String code, String message) {
    this(code, message, 0, null);
  }

  /**
   * @param code machine-readable error code
   * @param message human-readable message (no secrets)
   * @param status HTTP status, or 0 when there is none
   * @param cause the underlying exception, or {@code null}
   */
  public RelayAPIException(String code, String message, int status, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.status = status;
  }

  /** The machine-readable error code, e.g. {@code invalid_argument} or {@code unauthorized}. */
  public String code() {
    return code;
  }

  /** The HTTP status of the relay's answer, or 0 when the error did not come from an answer. */
  public int status() {
    return status;
  }
}
