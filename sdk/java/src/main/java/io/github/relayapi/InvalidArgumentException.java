package io.github.relayapi;

/**
 * An argument is invalid; nothing was encrypted or sent. Code {@code invalid_argument} (or
 * {@code token_too_large} when the token would exceed 8192 bytes, {@code missing_admin_key} when an
 * admin call has no key). {@link #param()} names the offending argument in this SDK's terms: the
 * {@link TokenRequest.Builder} method ({@code maxCalls}, {@code expiresIn}, {@code extra.x_team},
 * …) for a claim.
 */
public class InvalidArgumentException extends RelayAPIException {
  private static final long serialVersionUID = 1L;

  private final String param;
  private final String detail;

  /**
   * @param param the argument at fault
   * @param detail what is wrong with it
   */
  public InvalidArgumentException(String param, String detail) {
    this("invalid_argument", param, detail);
  }

  /**
   * @param code the error code
   * @param param the argument at fault
   * @param detail what is wrong with it
   */
  public InvalidArgumentException(String code, String param, String detail) {
    super(code, param + ": " + detail, 0, null);
    this.param = param;
    this.detail = detail;
  }

  /** The argument at fault (a builder method name for a claim). */
  public String param() {
    return param;
  }

  /** What is wrong, without the argument name. */
  public String detail() {
    return detail;
  }
}
