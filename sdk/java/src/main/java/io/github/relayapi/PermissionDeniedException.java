package io.github.relayapi;

/** HTTP 403: the token does not allow this ({@code model_not_allowed}, {@code path_not_allowed}, {@code origin_not_allowed}, …). */
public class PermissionDeniedException extends RelayHttpException {
  private static final long serialVersionUID = 1L;

  /**
   * @param code the error code of the answer
   * @param message the error message of the answer
   * @param type the error type of the answer, or {@code null}
   * @param body the raw body
   */
  public PermissionDeniedException(String code, String message, String type, String body) {
    super(403, code, message, type, body);
  }
}
