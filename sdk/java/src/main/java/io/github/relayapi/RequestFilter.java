package io.github.relayapi;

/**
 * Which lines {@link AdminClient#requests(RequestFilter)} lists: optionally those of one token
 * ({@code jti}), a page size and the cursor of the previous page. Immutable.
 *
 * @param jti only requests made with this token, or {@code null} for all
 * @param limit items per page (1–1000), or {@code null} for the relay's default (50)
 * @param cursor {@code nextCursor} of the previous page, or {@code null}
 */
public record RequestFilter(String jti, Integer limit, String cursor) {
  /** Every request, newest first, the relay's default page size. */
  public static RequestFilter all() {
    return new RequestFilter(null, null, null);
  }

  /** The requests made with one token. */
  public static RequestFilter byToken(String jti) {
    return new RequestFilter(jti, null, null);
  }

  /** This filter for one token. */
  public RequestFilter withJti(String jti) {
    return new RequestFilter(jti, limit, cursor);
  }

  /** This filter with a page size (1–1000). */
  public RequestFilter withLimit(int limit) {
    return new RequestFilter(jti, limit, cursor);
  }

  /** This filter from the page after {@code cursor}. */
  public RequestFilter withCursor(String cursor) {
    return new RequestFilter(jti, limit, cursor);
  }
}
