package io.github.relayapi;

import java.util.List;

/**
 * One page of an admin listing ({@link AdminClient#tokens}, {@link AdminClient#requests}).
 *
 * @param <T> {@link TokenUsage} or {@link RequestRecord}
 * @param data the items of this page
 * @param nextCursor pass it back (as the filter's {@code cursor}) for the next page; {@code null}
 *     on the last page
 */
public record Page<T>(List<T> data, String nextCursor) {
  /** Copies {@code data} (read-only). */
  public Page {
    data = List.copyOf(data);
  }

  /** Whether there is a next page. */
  public boolean hasMore() {
    return nextCursor != null;
  }
}
