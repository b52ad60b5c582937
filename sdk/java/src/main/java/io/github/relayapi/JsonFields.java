package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Lenient readers of admin API answers (a missing field reads as empty/zero/null). */
final class JsonFields {
  private JsonFields() {}

  static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static String textOrEmpty(JsonNode n, String field) {
    String s = text(n, field);
    return s == null ? "" : s;
  }

  static long number(JsonNode n, String field) {
    return n.path(field).asLong(0);
  }

  static Long nullableNumber(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asLong();
  }

  static Instant instant(JsonNode n, String field) {
    String s = text(n, field);
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
