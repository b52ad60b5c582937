package io.github.relayapi;

/**
 * A {@code .rai} key file (or the environment variable naming it) cannot be used: unreadable,
 * not JSON, a broken rule of docs/token-format.md §3, the wrong role (an {@code ecc} relay file
 * given to a backend), or the example key RelayAPI 1.x published. Code {@code invalid_config}.
 */
public class InvalidConfigException extends RelayAPIException {
  private static final long serialVersionUID = 1L;

  /** @param message what is wrong, and where */
  public InvalidConfigException(String message) {
    super("invalid_config", message, 0, null);
  }

  /**
   * @param message what is wrong, and where
   * @param cause the underlying exception
   */
  public InvalidConfigException(String message, Throwable cause) {
    super("invalid_config", message, 0, cause);
  }
}
