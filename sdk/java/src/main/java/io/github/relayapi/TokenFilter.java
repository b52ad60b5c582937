package io.github.relayapi;

/**
 * Which tokens {@link AdminClient#tokens(TokenFilter)} lists: optionally those of one end user
 * ({@code sub}), a page size and the cursor of the previous page. Immutable.
 *
 * @param sub only tokens of this end user, or {@code null} for all
 * @param limit items per page (1–1000), or {@code null} for the relay's default (50)
 * @param cursor {@code nextCursor} of the previous page, or {@code null}
 */
public record TokenFilter(String sub, Integer limit, String cursor) {
  /** Every token, the relay's default page size. */
  public static TokenFilter all() {
    return new TokenFilter(null, null, null);
  }

  /** The tokens of one end user. */
  public static TokenFilter bySub(String sub) {
    return new TokenFilter(sub, null, null);
  }

  /** This filter for one end user. */
  public TokenFilter withSub(String sub) {
    return new TokenFilter(sub, limit, cursor);
  }

  /** This filter with a page size (1–1000). */
  public TokenFilter withLimit(int limit) {
    return new TokenFilter(sub, limit, cursor);
  }

  /** This filter from the page after {@code cursor}. */
  public TokenFilter withCursor(String cursor) {
    return new TokenFilter(sub, limit, cursor);
  }
}
