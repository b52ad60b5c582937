package io.github.relayapi;

/** The relay could not be reached (refused connection, DNS, TLS, timeout). Code {@code network_error}. */
public class RelayConnectionException extends RelayAPIException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what failed (the URL without its token)
   * @param cause the I/O exception
   */
  public RelayConnectionException(String message, Throwable cause) {
    super("network_error", message, 0, cause);
  }
}
