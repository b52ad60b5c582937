package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.util.Base64URL;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code .rai} key file (docs/token-format.md §2–§3), 1.x forms included. Role {@code
 * both} for {@code aes}, {@code backend} or {@code relay} for {@code ecc}.
 */
final class KeyFile {
  /** The AES key RelayAPI 1.x published and wrote into every default.rai it created. */
  static final String EXAMPLE_AES_KEY = "0123456789abcdef".repeat(4);

  /** Same wording in every SDK (issue 17). */
  static final String EXAMPLE_KEY_MESSAGE =
      "crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens "
          + "with it. Make a real key with: relayapi keygen --method aes --out default.rai";

  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern B64URL = Pattern.compile("[A-Za-z0-9_-]+");
  private static final Pattern HOST_PORT =
      Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[^\\[\\]:]+)(?::([0-9]{1,5}))?");
  private static final String BAD_HOST =
      "server.host must be a host name or IP address, optionally after http:// or https://";

  final String method;
  final String role;
  final ServerInfo server;
  // aes
  final byte[] aesKey;
  final String aesKid;
  // ecc backend
  final ECKey signer;
  final String signerKid;
  final ECKey relayPublic;
  // ecc relay
  final ECKey relayPrivate;
  final Map<String, ECKey> signers;
  // ecc: the relay key's kid (both roles)
  final String relayKid;

  private KeyFile(
      String method,
      String role,
      ServerInfo server,
      byte[] aesKey,
      String aesKid,
      ECKey signer,
      String signerKid,
      ECKey relayPublic,
      ECKey relayPrivate,
      Map<String, ECKey> signers,
      String relayKid) {
    this.method = method;
    this.role = role;
    this.server = server;
    this.aesKey = aesKey;
    this.aesKid = aesKid;
    this.signer = signer;
    this.signerKid = signerKid;
    this.relayPublic = relayPublic;
    this.relayPrivate = relayPrivate;
    this.signers = signers;
    this.relayKid = relayKid;
  }

  boolean canMint() {
    return !role.equals("relay");
  }

  boolean canDecode() {
    return !role.equals("backend");
  }

  /** Where the relay is reachable (the {@code server} section). */
  static final class ServerInfo {
    final String scheme;
    final String host;
    final int port;
    final String basePath;

    ServerInfo(String scheme, String host, int port, String basePath) {
      this.scheme = scheme;
      this.host = host;
      this.port = port;
      this.basePath = basePath;
    }

    /** {@code {scheme}://{host}[:{port}]{base_path}}, the port omitted when it is the scheme's default. */
    String url() {
      String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
      boolean defaultPort =
          (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
      return scheme + "://" + h + (defaultPort ? "" : ":" + port) + basePath;
    }
  }

  // ------------------------------------------------------------------ loading

  static KeyFile load(Path path, Consumer<String> warn) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      String hint =
          Files.exists(path) ? "" : " (make a key file with: relayapi keygen --method aes --out default.rai)";
      throw new InvalidConfigException("cannot read .rai file " + path + ": " + e.getMessage() + hint, e);
    }
    return parseJson(text, path.toString(), warn);
  }

  static KeyFile parseJson(String text, String where, Consumer<String> warn) {
    JsonNode data;
    try {
      data = Json.MAPPER.readTree(text);
    } catch (IOException e) {
      throw new InvalidConfigException(where + ": not valid JSON");
    }
    if (data == null || !data.isObject()) {
      throw new InvalidConfigException(where + ": must contain a JSON object");
    }
    return parse(data, where, warn);
  }

  static KeyFile parse(JsonNode data, String where, Consumer<String> warn) {
    ServerInfo server = parseServer(data.get("server"), where);
    JsonNode crypto = data.get("crypto");
    if (crypto == null || !crypto.isObject()) {
      throw new InvalidConfigException(where + ": \"crypto\" must be an object");
    }
    JsonNode method = crypto.get("method");
    String m = method != null && method.isTextual() ? method.asText() : null;
    if ("aes".equals(m)) {
      return parseAes(crypto, server, where, warn);
    }
    if ("ecc".equals(m)) {
      return parseEcc(crypto, server, where);
    }
    throw new InvalidConfigException(
        where + ": crypto.method must be \"aes\" or \"ecc\", got " + (method == null ? "nothing" : method.toString()));
  }

  // ------------------------------------------------------------------- server

  private static boolean absent(JsonNode n) {
    return n == null || n.isNull() || (n.isTextual() && n.asText().isEmpty());
  }

  static ServerInfo parseServer(JsonNode raw, String where) {
    if (raw == null || raw.isNull()) {
      return new ServerInfo("http", "127.0.0.1", 8840, "");
    }
    if (!raw.isObject()) {
      throw new InvalidConfigException(where + ": \"server\" must be an object");
    }
    Integer port = null;
    JsonNode portNode = raw.get("port");
    if (!absent(portNode) && !(portNode.isIntegralNumber() && portNode.asLong() == 0)) {
      long p;
      if (portNode.isIntegralNumber()) {
        p = portNode.asLong();
      } else if (portNode.isTextual() && portNode.asText().matches("[0-9]{1,5}")) {
        p = Long.parseLong(portNode.asText());
      } else {
        p = -1;
      }
      if (p < 1 || p > 65535) {
        throw new InvalidConfigException(where + ": server.port must be an integer between 1 and 65535");
      }
      port = (int) p;
    }
    String scheme = null;
    JsonNode schemeNode = raw.get("scheme");
    if (!absent(schemeNode)) {
      if (!schemeNode.isTextual()
          || !(schemeNode.asText().equals("http") || schemeNode.asText().equals("https"))) {
        throw new InvalidConfigException(where + ": server.scheme must be \"http\" or \"https\"");
      }
      scheme = schemeNode.asText();
    }
    JsonNode hostNode = raw.get("host");
    String host = "127.0.0.1";
    if (!absent(hostNode)) {
      if (!hostNode.isTextual()) {
        throw new InvalidConfigException(where + ": " + BAD_HOST);
      }
      host = hostNode.asText();
    }
    int sep = host.indexOf("://");
    if (sep < 0) {
      if (host.isEmpty() || host.chars().anyMatch(c -> "/?#@ \\".indexOf(c) >= 0 || Character.isWhitespace(c))) {
        throw new InvalidConfigException(where + ": " + BAD_HOST);
      }
    } else {
      // RelayAPI 1.x wrote the scheme inside host ("http://localhost").
      String hostScheme = host.substring(0, sep).toLowerCase(Locale.ROOT);
      String rest = host.substring(sep + 3);
      if (!hostScheme.equals("http") && !hostScheme.equals("https")) {
        throw new InvalidConfigException(where + ": " + BAD_HOST);
      }
      if (scheme != null && !scheme.equals(hostScheme)) {
        throw new InvalidConfigException(
            where + ": server.host says " + hostScheme + ":// but server.scheme says " + scheme + ": keep one of them");
      }
      Matcher hm = HOST_PORT.matcher(rest);
      if (!hm.matches() || rest.chars().anyMatch(c -> "/?#@ \\".indexOf(c) >= 0 || Character.isWhitespace(c))) {
        throw new InvalidConfigException(
            where + ": server.host must be " + hostScheme + ":// followed by a bare host name or IP "
                + "(no path, query or user; the path goes in server.base_path)");
      }
      String name = hm.group(1);
      if (name.startsWith("[")) {
        name = name.substring(1, name.length() - 1);
      }
      if (hm.group(2) != null) {
        int hostPort = Integer.parseInt(hm.group(2));
        if (hostPort < 1 || hostPort > 65535) {
          throw new InvalidConfigException(where + ": server.host names port " + hostPort + ", out of range");
        }
        if (port != null && port != hostPort) {
          throw new InvalidConfigException(
              where + ": server.host names port " + hostPort + " but server.port is " + port + ": keep one of them");
        }
        port = hostPort;
      }
      scheme = hostScheme;
      host = name;
    }
    int finalPort = port == null ? 8840 : port;
    if (scheme == null) {
      scheme = finalPort == 443 ? "https" : "http";
    }
    return new ServerInfo(scheme, host, finalPort, parseBasePath(raw.get("base_path"), where));
  }

  private static String parseBasePath(JsonNode node, String where) {
    if (absent(node)) {
      return "";
    }
    String p = node.isTextual() ? node.asText() : null;
    if (p == null
        || !p.startsWith("/")
        || p.contains("//")
        || p.chars().anyMatch(c -> c == '?' || c == '#' || Character.isWhitespace(c))) {
      throw new InvalidConfigException(
          where + ": server.base_path must start with / (e.g. \"/relay\"), without ?, #, spaces or //");
    }
    return p.endsWith("/") ? p.substring(0, p.length() - 1) : p; // "/relayapi/" -> "/relayapi", "/" -> ""
  }

  // ---------------------------------------------------------------------- aes

  private static String explicitKid(JsonNode value, String what, String where) {
    if (absent(value)) {
      return null;
    }
    if (!value.isTextual() || !ClaimRules.KID.matcher(value.asText()).matches()) {
      throw new InvalidConfigException(where + ": " + what + " must match [A-Za-z0-9._-]{1,64}");
    }
    return value.asText();
  }

  private static KeyFile parseAes(JsonNode crypto, ServerInfo server, String where, Consumer<String> warn) {
    JsonNode hex = crypto.get("aes_key");
    if (hex == null || !hex.isTextual() || !HEX64.matcher(hex.asText()).matches()) {
      throw new InvalidConfigException(where + ": crypto.aes_key must be 64 hexadecimal characters (32 bytes)");
    }
    if (hex.asText().toLowerCase(Locale.ROOT).equals(EXAMPLE_AES_KEY)) {
      throw new InvalidConfigException(where + ": " + EXAMPLE_KEY_MESSAGE);
    }
    String kid = explicitKid(crypto.get("key_id"), "crypto.key_id", where);
    if (crypto.has("aes_iv_seed")) {
      warn.accept(where + ": crypto.aes_iv_seed is ignored (every token gets a random IV)");
    }
    byte[] key = HexFormat.of().parseHex(hex.asText());
    if (kid == null) {
      kid = deriveKid(new OctetSequenceKey.Builder(key).build());
    }
    return new KeyFile("aes", "both", server, key, kid, null, null, null, null, null, null);
  }

  /** Default kid: the first 16 characters of the RFC 7638 SHA-256 thumbprint of the public JWK. */
  static String deriveKid(OctetSequenceKey key) {
    try {
      return key.computeThumbprint("SHA-256").toString().substring(0, 16);
    } catch (Exception e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  static String deriveKid(ECKey key) {
    try {
      return key.toPublicJWK().computeThumbprint("SHA-256").toString().substring(0, 16);
    } catch (Exception e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  // ---------------------------------------------------------------------- ecc

  private static final class Parsed {
    final String kid;
    final ECKey key;

    Parsed(String kid, ECKey key) {
      this.kid = kid;
      this.key = key;
    }
  }

  private static Parsed parseEcJwk(
      JsonNode raw, String what, String where, boolean isPrivate, String alg, String use, String fallbackKid) {
    if (raw == null || !raw.isObject()) {
      throw new InvalidConfigException(where + ": " + what + " must be a JWK object");
    }
    if (!"EC".equals(raw.path("kty").asText(null)) || !"P-256".equals(raw.path("crv").asText(null))) {
      throw new InvalidConfigException(where + ": " + what + " must be an EC P-256 JWK");
    }
    String[] names = isPrivate ? new String[] {"x", "y", "d"} : new String[] {"x", "y"};
    for (String n : names) {
      JsonNode v = raw.get(n);
      if (v == null || !v.isTextual() || !B64URL.matcher(v.asText()).matches()) {
        throw new InvalidConfigException(where + ": " + what + "." + n + " must be base64url");
      }
    }
    if (!isPrivate && raw.has("d")) {
      throw new InvalidConfigException(where + ": " + what + " must be a public key (it has a private \"d\")");
    }
    JsonNode a = raw.get("alg");
    if (!absent(a) && !alg.equals(a.asText())) {
      throw new InvalidConfigException(where + ": " + what + ".alg must be \"" + alg + "\"");
    }
    JsonNode u = raw.get("use");
    if (!absent(u) && !use.equals(u.asText())) {
      throw new InvalidConfigException(where + ": " + what + ".use must be \"" + use + "\"");
    }
    ECKey key;
    try {
      ECKey.Builder b =
          new ECKey.Builder(
              Curve.P_256, new Base64URL(raw.get("x").asText()), new Base64URL(raw.get("y").asText()));
      if (isPrivate) {
        b.d(new Base64URL(raw.get("d").asText()));
      }
      key = b.build();
      // Build the JCA keys now so a broken key fails at load time, not at the first mint.
      key.toECPublicKey();
      if (isPrivate) {
        key.toECPrivateKey();
      }
    } catch (Exception e) {
      throw new InvalidConfigException(where + ": " + what + " is not a valid P-256 key", e);
    }
    String kid = explicitKid(raw.get("kid"), what + ".kid", where);
    if (kid == null) {
      kid = fallbackKid != null ? fallbackKid : deriveKid(key);
    }
    return new Parsed(kid, key);
  }

  private static KeyFile parseEcc(JsonNode crypto, ServerInfo server, String where) {
    // crypto.key_id, when given, names the relay key (unless its JWK has a kid).
    String keyId = explicitKid(crypto.get("key_id"), "crypto.key_id", where);
    boolean backend = crypto.has("signing_key") || crypto.has("relay_public_key");
    boolean relay = crypto.has("relay_private_key") || crypto.has("trusted_signers");
    if (backend && relay) {
      throw new InvalidConfigException(where + ": an ecc file is either a backend file or a relay file, not both");
    }
    if (backend) {
      Parsed signer = parseEcJwk(crypto.get("signing_key"), "crypto.signing_key", where, true, "ES256", "sig", null);
      Parsed relayPub =
          parseEcJwk(crypto.get("relay_public_key"), "crypto.relay_public_key", where, false, "ECDH-ES", "enc", keyId);
      return new KeyFile(
          "ecc", "backend", server, null, null, signer.key, signer.kid, relayPub.key, null, null, relayPub.kid);
    }
    if (relay) {
      Parsed relayPriv =
          parseEcJwk(crypto.get("relay_private_key"), "crypto.relay_private_key", where, true, "ECDH-ES", "enc", keyId);
      JsonNode list = crypto.get("trusted_signers");
      if (list == null || !list.isArray() || list.isEmpty()) {
        throw new InvalidConfigException(where + ": crypto.trusted_signers must be a non-empty list of JWKs");
      }
      Map<String, ECKey> signers = new LinkedHashMap<>();
      for (int i = 0; i < list.size(); i++) {
        Parsed s = parseEcJwk(list.get(i), "crypto.trusted_signers[" + i + "]", where, false, "ES256", "sig", null);
        if (signers.putIfAbsent(s.kid, s.key) != null) {
          throw new InvalidConfigException(where + ": trusted signer kid \"" + s.kid + "\" appears twice");
        }
      }
      return new KeyFile(
          "ecc", "relay", server, null, null, null, null, null, relayPriv.key,
          Collections.unmodifiableMap(signers), relayPriv.kid);
    }
    throw new InvalidConfigException(
        where + ": an ecc file needs signing_key and relay_public_key (backend) "
            + "or relay_private_key and trusted_signers (relay)");
  }
}
