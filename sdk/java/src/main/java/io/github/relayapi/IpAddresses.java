package io.github.relayapi;

import java.util.regex.Pattern;

/**
 * Syntax checks for the {@code ips} claim: an IPv4 or IPv6 address, optionally with a /prefix.
 * Pure string parsing (never {@link java.net.InetAddress}, which may resolve names).
 */
final class IpAddresses {
  private static final Pattern OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
  private static final Pattern GROUP = Pattern.compile("[0-9a-fA-F]{1,4}");

  private IpAddresses() {}

  static boolean isIPv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (!OCTET.matcher(p).matches() || Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  static boolean isIPv6(String s) {
    if (s.isEmpty() || s.contains("%")) {
      return false;
    }
    String head = s;
    int tailGroups = 0;
    int lastColon = s.lastIndexOf(':');
    if (lastColon >= 0 && s.substring(lastColon + 1).contains(".")) {
      // An embedded IPv4 address (::ffff:192.0.2.1) counts as two groups.
      if (!isIPv4(s.substring(lastColon + 1))) {
        return false;
      }
      head = s.substring(0, lastColon + 1);
      if (!head.endsWith("::")) {
        head = head.substring(0, head.length() - 1);
      }
      tailGroups = 2;
    }
    String[] halves = head.split("::", -1);
    if (halves.length > 2) {
      return false;
    }
    if (halves.length == 1) {
      int n = countGroups(halves[0]);
      return n >= 0 && n + tailGroups == 8;
    }
    int a = countGroups(halves[0]);
    int b = countGroups(halves[1]);
    return a >= 0 && b >= 0 && a + b + tailGroups <= 7;
  }

  private static int countGroups(String h) {
    if (h.isEmpty()) {
      return 0;
    }
    String[] groups = h.split(":", -1);
    for (String g : groups) {
      if (!GROUP.matcher(g).matches()) {
        return -1;
      }
    }
    return groups.length;
  }

  /** True for an IP address or a CIDR ({@code 10.0.0.0/8}, {@code 2001:db8::/32}). */
  static boolean isIpOrCidr(String s) {
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    int zone = addr.indexOf('%');
    if (zone >= 0) {
      // A zone (fe80::1%eth0) is allowed on a single IPv6 address, as the relay (Go netip) allows.
      return slash < 0 && zone + 1 < addr.length() && isIPv6(addr.substring(0, zone));
    }
    int bits;
    if (isIPv4(addr)) {
      bits = 32;
    } else if (isIPv6(addr)) {
      bits = 128;
    } else {
      return false;
    }
    if (slash < 0) {
      return true;
    }
    String prefix = s.substring(slash + 1);
    return OCTET.matcher(prefix).matches() && Integer.parseInt(prefix) <= bits;
  }
}
