package io.github.relayapi;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The claim rules of docs/token-format.md §4, shared by minting and the test decoder. Lengths are
 * counted in UTF-8 bytes, like the Go relay, so a token the SDK mints is never one the relay
 * rejects. Values are the Java forms of JSON: {@link String}, integral {@link Number}s, {@link
 * List}, {@link Map}, {@link Boolean}, or anything else for {@code x_…} claims.
 */
final class ClaimRules {
  static final long MAX_SAFE = (1L << 53) - 1;
  static final Pattern JTI = Pattern.compile("[A-Za-z0-9._:-]{16,128}");
  static final Pattern PROVIDER = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
  static final Pattern KID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern ORIGIN =
      Pattern.compile(
          "([a-z][a-z0-9+.-]*)://(\\*\\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
              + "|\\[([0-9a-f:.]+)\\])(:([0-9]{1,5}))?");

  static final Set<String> KNOWN =
      Set.of(
          "jti", "exp", "iat", "nbf", "sub", "provider", "api_key", "max_calls", "models", "paths",
          "rpm", "concurrency", "max_tokens", "token_budget", "max_session_seconds", "ips", "origins",
          "model_map", "meta");

  /** A claim breaks a rule; {@code claim} names it (wire name). */
  static final class ClaimError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String claim;
    final String detail;

    ClaimError(String claim, String detail) {
      super("claim \"" + claim + "\" " + detail, null, false, false);
      this.claim = claim;
      this.detail = detail;
    }
  }

  private ClaimRules() {}

  /** Validates a whole claims set; throws {@link ClaimError} on the first broken rule. */
  static void validate(Object claimsObject) {
    if (!(claimsObject instanceof Map)) {
      throw new ClaimError("(claims)", "must be a JSON object");
    }
    Map<?, ?> claims = (Map<?, ?>) claimsObject;
    for (String name : List.of("jti", "exp", "provider")) {
      if (!claims.containsKey(name)) {
        throw new ClaimError(name, "is required");
      }
    }
    for (Map.Entry<?, ?> e : claims.entrySet()) {
      if (!(e.getKey() instanceof String)) {
        throw new ClaimError(String.valueOf(e.getKey()), "name must be a string");
      }
      checkClaim((String) e.getKey(), e.getValue());
    }
    if (claims.containsKey("nbf")) {
      long nbf = ((Number) claims.get("nbf")).longValue();
      long exp = ((Number) claims.get("exp")).longValue();
      if (nbf != 0 && nbf >= exp) {
        throw new ClaimError("nbf", "must be before the expiry (exp)");
      }
    }
  }

  /** Checks one claim by name (unknown names other than {@code x_…} are errors). */
  static void checkClaim(String name, Object value) {
    if (value == null) {
      throw new ClaimError(name, "must not be null (omit it instead)");
    }
    if (name.startsWith("x_")) {
      return; // any JSON value; the minting side checks it serialises
    }
    switch (name) {
      case "exp":
        checkInt(name, value, 1, MAX_SAFE, "2^53-1");
        break;
      case "iat":
      case "nbf":
        checkInt(name, value, 0, MAX_SAFE, "2^53-1");
        break;
      case "max_calls":
      case "token_budget":
        checkInt(name, value, 1, MAX_SAFE, "2^53-1");
        break;
      case "rpm":
        checkInt(name, value, 1, 1_000_000, "1000000");
        break;
      case "concurrency":
        checkInt(name, value, 1, 100_000, "100000");
        break;
      case "max_tokens":
        checkInt(name, value, 1, Integer.MAX_VALUE, "2^31-1");
        break;
      case "max_session_seconds":
        checkInt(name, value, 1, 86_400, "86400");
        break;
      case "jti":
        if (!(value instanceof String) || !JTI.matcher((String) value).matches()) {
          throw new ClaimError(name, "must be 16-128 characters of A-Z a-z 0-9 . _ : -");
        }
        break;
      case "provider":
        if (!(value instanceof String) || !PROVIDER.matcher((String) value).matches()) {
          throw new ClaimError(name, "must be a provider name matching [a-z0-9][a-z0-9_-]{0,63}");
        }
        break;
      case "sub":
        checkString(name, value, 1, 256);
        break;
      case "api_key":
        // Never echo the key itself.
        if (!(value instanceof String) || !isPrintableAscii((String) value, 4096)) {
          throw new ClaimError(
              name, "must be 1-4096 printable ASCII characters without spaces or control characters");
        }
        break;
      case "models":
      case "paths":
      case "ips":
      case "origins":
        checkList(name, value);
        break;
      case "model_map":
        checkMap(name, value, 100, 256);
        break;
      case "meta":
        checkMap(name, value, 32, 64);
        break;
      default:
        throw new ClaimError(name, "is not a known claim (extension claims must start with \"x_\")");
    }
  }

  /** The value of an integral JSON number, or {@code null} for anything else. */
  static Long integral(Object value) {
    if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger) {
      BigInteger b = (BigInteger) value;
      return b.bitLength() < 64 ? b.longValue() : Long.MAX_VALUE;
    }
    return null;
  }

  private static void checkInt(String name, Object value, long min, long max, String maxText) {
    Long n = integral(value);
    if (n == null) {
      throw new ClaimError(name, "must be an integer (no fraction), got " + describe(value));
    }
    if (n < min || n > max) {
      throw new ClaimError(name, "must be an integer between " + min + " and " + maxText + ", got " + n);
    }
  }

  private static void checkString(String name, Object value, int min, int max) {
    if (!(value instanceof String)) {
      throw new ClaimError(name, "must be a string, got " + describe(value));
    }
    int n = utf8Length((String) value);
    if (n < min || n > max) {
      throw new ClaimError(name, "must be " + min + "-" + max + " bytes long (UTF-8), got " + (n < 0 ? "invalid Unicode" : n));
    }
  }

  private static void checkList(String name, Object value) {
    if (!(value instanceof List)) {
      throw new ClaimError(name, "must be a list of strings, got " + describe(value));
    }
    List<?> list = (List<?>) value;
    if (list.isEmpty() || list.size() > 100) {
      throw new ClaimError(
          name, "must have 1-100 entries, got " + list.size() + (list.isEmpty() ? " (omit it for no restriction)" : ""));
    }
    for (int i = 0; i < list.size(); i++) {
      Object item = list.get(i);
      if (!(item instanceof String)) {
        throw new ClaimError(name, "must be a list of strings, entry " + i + " is " + describe(item));
      }
      String s = (String) item;
      boolean ok;
      String rule;
      switch (name) {
        case "models":
          int n = utf8Length(s);
          ok = n >= 1 && n <= 256;
          rule = "each model pattern must be 1-256 bytes";
          break;
        case "paths":
          int p = utf8Length(s);
          ok = s.startsWith("/") && p >= 1 && p <= 1024;
          rule = "each path pattern must start with \"/\" and be at most 1024 bytes";
          break;
        case "ips":
          ok = IpAddresses.isIpOrCidr(s);
          rule = "each entry must be an IP address or CIDR (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)";
          break;
        default:
          ok = isValidOrigin(s);
          rule = "each entry must be \"*\", scheme://host[:port] or scheme://*.domain, lower-case, without a path";
          break;
      }
      if (!ok) {
        throw new ClaimError(name, "has an invalid entry " + i + " " + describe(s) + ": " + rule);
      }
    }
  }

  private static void checkMap(String name, Object value, int maxEntries, int maxKey) {
    if (!(value instanceof Map)) {
      throw new ClaimError(name, "must be an object mapping strings to strings, got " + describe(value));
    }
    Map<?, ?> map = (Map<?, ?>) value;
    if (map.isEmpty() || map.size() > maxEntries) {
      throw new ClaimError(name, "must have 1-" + maxEntries + " entries (omit it when empty), got " + map.size());
    }
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof String)) {
        throw new ClaimError(name, "must be an object mapping strings to strings");
      }
      int k = utf8Length((String) e.getKey());
      int v = utf8Length((String) e.getValue());
      if (k < 1 || k > maxKey || v < 1 || v > 256) {
        throw new ClaimError(
            name,
            "keys must be 1-" + maxKey + " and values 1-256 bytes (UTF-8), bad entry " + describe(e.getKey()));
      }
    }
  }

  /** True for {@code *}, {@code scheme://host[:port]} or {@code scheme://*.example.com[:port]}. */
  static boolean isValidOrigin(String s) {
    if (s.equals("*")) {
      return true;
    }
    Matcher m = ORIGIN.matcher(s);
    if (!m.matches()) {
      return false;
    }
    String ipv6 = m.group(7);
    if (ipv6 != null && (m.group(2) != null || !IpAddresses.isIPv6(ipv6))) {
      return false;
    }
    String port = m.group(9);
    if (port != null) {
      int n = Integer.parseInt(port);
      return n >= 1 && n <= 65535;
    }
    return true;
  }

  static boolean isPrintableAscii(String s, int max) {
    if (s.isEmpty() || s.length() > max) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** Length in UTF-8 bytes, or -1 for a string with a lone surrogate (it cannot go into a token). */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return -1;
        }
        n += 4;
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return -1;
      } else {
        n += 3;
      }
    }
    return n;
  }

  static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      String s = (String) v;
      return s.length() > 40 ? "a string of " + s.length() + " characters" : Json.quote(s);
    }
    if (v instanceof Number || v instanceof Boolean) {
      return String.valueOf(v);
    }
    if (v instanceof List) {
      return "a list";
    }
    if (v instanceof Map) {
      return "an object";
    }
    return "a " + v.getClass().getSimpleName();
  }
}
