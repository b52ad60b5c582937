package io.github.relayapi;

/** HTTP 401: a missing or wrong admin key ({@code unauthorized}), or a token the relay refused ({@code invalid_token}, {@code token_expired}, {@code token_revoked}, …). */
public class AuthenticationException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  /**
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   */
  public AuthenticationException(String code, String message, String type, String body) {
    super(401, code, message, type, body);
  }
}
