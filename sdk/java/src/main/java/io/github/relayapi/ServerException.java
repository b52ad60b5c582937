package io.github.relayapi;

/** HTTP 5xx: the relay (or its store, or the provider behind it) failed. */
public class ServerException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  /**
   * @param status HTTP status (500–599)
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   */
  public ServerException(int status, String code, String message, String type, String body) {
    super(status, code, message, type, body);
  }
}
