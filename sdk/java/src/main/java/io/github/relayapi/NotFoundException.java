package io.github.relayapi;

/** HTTP 404: an unknown token id, or the admin API is disabled ({@code not_found}). */
public class NotFoundException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  /**
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   */
  public NotFoundException(String code, String message, String type, String body) {
    super(404, code, message, type, body);
  }
}
