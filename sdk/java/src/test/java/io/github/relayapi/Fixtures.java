package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** Test data: the shared vectors, fresh key files, and JSON helpers. */
public final class Fixtures {
  private Fixtures() {}

  /** The repository root (system property relayapi.repo, set by the pom; else ../..). */
  public static Path repo() {
    String p = System.getProperty("relayapi.repo");
    Path root = p != null ? Path.of(p) : Path.of("").toAbsolutePath().resolve("../..");
    return root.toAbsolutePath().normalize();
  }

  /** The SDK folder (sdk/java). */
  public static Path sdk() {
    return repo().resolve("sdk/java");
  }

  public static Path vectorsDir() {
    return repo().resolve("testdata/vectors");
  }

  public static JsonNode readJson(Path path) {
    try {
      return Json.MAPPER.readTree(Files.readString(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode readJsonBytes(byte[] bytes) {
    try {
      return Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A JSON value as a canonical tree (integers as the smallest node type), for comparisons. */
  public static JsonNode tree(Object value) {
    try {
      return Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(value));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String toJson(Object value) {
    try {
      return Json.MAPPER.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads a key file a relay would hold (warnings dropped). */
  static KeyFile relayKeys(Path path) {
    return KeyFile.load(path, w -> {});
  }

  static KeyFile relayKeysJson(String json) {
    return KeyFile.parseJson(json, ".rai", w -> {});
  }

  /** A fresh aes key as 64 hex characters. */
  public static String randomHexKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return HexFormat.of().formatHex(key);
  }

  /** A current-form aes key file with a fresh key. */
  public static ObjectNode aesRai(String host, int port, String basePath) {
    ObjectNode rai = Json.MAPPER.createObjectNode();
    rai.put("version", "1");
    ObjectNode server = rai.putObject("server");
    server.put("host", host);
    server.put("port", port);
    server.put("base_path", basePath);
    ObjectNode crypto = rai.putObject("crypto");
    crypto.put("method", "aes");
    crypto.put("aes_key", randomHexKey());
    return rai;
  }

  public static ObjectNode aesRai() {
    return aesRai("127.0.0.1", 8840, "");
  }

  /** A key file exactly in the form RelayAPI 1.x wrote default.rai (fresh key). */
  public static ObjectNode v1Rai(int port) {
    ObjectNode rai = Json.MAPPER.createObjectNode();
    rai.put("version", "1.0.0");
    ObjectNode server = rai.putObject("server");
    server.put("host", "http://127.0.0.1");
    server.put("port", port);
    server.put("base_path", "/relayapi/");
    ObjectNode crypto = rai.putObject("crypto");
    crypto.put("method", "aes");
    crypto.put("aes_key", randomHexKey());
    crypto.put("aes_iv_seed", "fedcba9876543210");
    return rai;
  }

  /** An ecc pair with fresh keys: [backend file, relay file]. */
  public static ObjectNode[] eccRaiPair(String host, int port) {
    try {
      ECKey relay = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
      ECKey signer = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
      ObjectNode backend = Json.MAPPER.createObjectNode();
      backend.put("version", "1");
      backend.putObject("server").put("host", host).put("port", port);
      ObjectNode bc = backend.putObject("crypto");
      bc.put("method", "ecc");
      bc.set("signing_key", jwk(signer, true, "ES256", "sig"));
      bc.set("relay_public_key", jwk(relay, false, "ECDH-ES", "enc"));
      ObjectNode relayFile = Json.MAPPER.createObjectNode();
      relayFile.put("version", "1");
      relayFile.putObject("server").put("host", host).put("port", port);
      ObjectNode rc = relayFile.putObject("crypto");
      rc.put("method", "ecc");
      rc.set("relay_private_key", jwk(relay, true, "ECDH-ES", "enc"));
      rc.putArray("trusted_signers").add(jwk(signer, false, "ES256", "sig"));
      return new ObjectNode[] {backend, relayFile};
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode jwk(ECKey key, boolean priv, String alg, String use) {
    Map<String, Object> map = priv ? key.toJSONObject() : key.toPublicJWK().toJSONObject();
    ObjectNode node = Json.MAPPER.valueToTree(map);
    node.put("kid", KeyFile.deriveKid(key));
    node.put("alg", alg);
    node.put("use", use);
    return node;
  }

  /** Collects warnings. */
  public static final class Warnings implements java.util.function.Consumer<String> {
    public final List<String> messages = new ArrayList<>();

    @Override
    public synchronized void accept(String message) {
      messages.add(message);
    }
  }
}
