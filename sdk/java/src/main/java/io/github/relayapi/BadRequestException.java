package io.github.relayapi;

/** HTTP 400: the request was malformed ({@code bad_request}: a bad {@code limit} or {@code cursor}). */
public class BadRequestException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  /**
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   */
  public BadRequestException(String code, String message, String type, String body) {
    super(400, code, message, type, body);
  }
}
