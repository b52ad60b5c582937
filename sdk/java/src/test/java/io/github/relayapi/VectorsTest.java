package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every vector of testdata/vectors/vectors.json, decoded by the test decoder; SDK tokens against the vector keys. */
class VectorsTest {
  static final JsonNode VECTORS = Fixtures.readJson(Fixtures.vectorsDir().resolve("vectors.json"));

  static Path key(String name) {
    return Fixtures.vectorsDir().resolve(VECTORS.path("keys").path(name).asText());
  }

  static JsonNode vector(String name) {
    for (JsonNode v : VECTORS.path("vectors")) {
      if (v.path("name").asText().equals(name)) {
        return v;
      }
    }
    throw new AssertionError("no vector " + name);
  }

  static String header(String token, String field) {
    JsonNode h = Fixtures.readJsonBytes(Base64.getUrlDecoder().decode(token.split("\\.")[0]));
    return h.path(field).asText();
  }

  @Test
  void theVectorFileIsNotEmpty() {
    JsonNode vs = VECTORS.path("vectors");
    assertTrue(vs.size() >= 20);
    List<String> methods = new ArrayList<>();
    boolean valid = false;
    boolean error = false;
    for (JsonNode v : vs) {
      methods.add(v.path("method").asText());
      valid |= v.has("claims");
      error |= v.has("error");
    }
    assertTrue(methods.contains("aes") && methods.contains("ecc"));
    assertTrue(valid && error);
  }

  @TestFactory
  Stream<DynamicTest> everyVector() {
    long now = VECTORS.path("now").asLong();
    long leeway = VECTORS.path("leeway").asLong();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode v : VECTORS.path("vectors")) {
      tests.add(
          DynamicTest.dynamicTest(
              v.path("name").asText(),
              () -> {
                KeyFile keys = Fixtures.relayKeys(key(v.path("relay_key").asText()));
                String token = v.path("token").asText();
                if (v.has("claims")) {
                  Map<String, Object> claims = TestDecoder.decode(token, List.of(keys), now, leeway);
                  assertEquals(v.path("claims"), Fixtures.tree(claims));
                } else {
                  TestDecoder.DecodeError err =
                      assertThrows(TestDecoder.DecodeError.class, () -> TestDecoder.decode(token, List.of(keys), now, leeway));
                  assertEquals(v.path("error").asText(), err.code, err.reason);
                }
              }));
    }
    return tests.stream();
  }

  @Test
  void vectorKeyFilesLoadForTheRelayAndBackendFilesInTheSdk() {
    for (String name : List.of("aes", "aes_kid", "aes_other", "ecc_relay")) {
      assertTrue(Fixtures.relayKeys(key(name)).canDecode(), name);
    }
    for (String name : List.of("ecc_backend", "ecc_untrusted_backend")) {
      assertEquals("ecc", RelayAPI.fromFile(key(name)).method());
    }
  }

  @Test
  void derivedKidsMatchTheVectors() {
    Fixtures.Warnings warnings = new Fixtures.Warnings();
    RelayAPI aes = RelayAPI.builder().rai(key("aes")).warnings(warnings).build();
    assertEquals(header(vector("aes-valid-minimal").path("token").asText(), "kid"), aes.keyId());
    assertEquals(1, warnings.messages.size());
    assertTrue(warnings.messages.get(0).contains("aes_iv_seed"));

    KeyFile backend = Fixtures.relayKeys(key("ecc_backend"));
    assertEquals(header(vector("ecc-valid-minimal").path("token").asText(), "kid"), backend.relayKid);
    // keygen wrote the derived kid into each JWK: deriving again agrees.
    assertEquals(KeyFile.deriveKid(backend.relayPublic), backend.relayKid);
    assertEquals(KeyFile.deriveKid(backend.signer), backend.signerKid);
    assertEquals(backend.relayKid, RelayAPI.fromFile(key("ecc_backend")).keyId());
  }

  @Test
  void anExplicitKeyIdIsUsed() {
    RelayAPI relay = RelayAPI.fromFile(key("aes_kid"));
    assertEquals("rotation-2026-01", relay.keyId());
    Token token = relay.createToken(TokenRequest.builder().build());
    assertEquals("rotation-2026-01", header(token.value(), "kid"));
  }

  @Test
  void sdkTokensDecodeWithTheVectorKeys() throws Exception {
    String[][] pairs = {{"aes", "aes"}, {"aes_kid", "aes_kid"}, {"ecc_backend", "ecc_relay"}};
    for (String[] pair : pairs) {
      RelayAPI relay = RelayAPI.builder().rai(key(pair[0])).warnings(w -> {}).build();
      Token token =
          relay.createToken(TokenRequest.builder().provider("openai").apiKey("sk-test").maxCalls(3).build());
      long iat = ((Number) token.claims().get("iat")).longValue();
      Map<String, Object> claims =
          TestDecoder.decode(token.value(), List.of(Fixtures.relayKeys(key(pair[1]))), iat, 30);
      assertEquals(Fixtures.tree(token.claims()), Fixtures.tree(claims), pair[0]);
    }
  }

  @Test
  void eccHeadersAreAsTheSpecSays() throws Exception {
    Token token = RelayAPI.fromFile(key("ecc_backend")).createToken(TokenRequest.builder().build());
    assertEquals("ECDH-ES", header(token.value(), "alg"));
    assertEquals("A256GCM", header(token.value(), "enc"));
    assertEquals("JWT", header(token.value(), "cty"));
    assertTrue(Fixtures.readJsonBytes(Base64.getUrlDecoder().decode(token.value().split("\\.")[0])).has("epk"));
    Token aes = RelayAPI.builder().rai(key("aes")).warnings(w -> {}).build().createToken(TokenRequest.builder().build());
    assertEquals("dir", header(aes.value(), "alg"));
    assertEquals("", aes.value().split("\\.", -1)[1], "dir has no encrypted key");
  }

  @Test
  void anUntrustedBackendIsRefusedByTheRelayFile() {
    Token token = RelayAPI.fromFile(key("ecc_untrusted_backend")).createToken(TokenRequest.builder().build());
    TestDecoder.DecodeError err =
        assertThrows(
            TestDecoder.DecodeError.class,
            () -> TestDecoder.open(token.value(), List.of(Fixtures.relayKeys(key("ecc_relay")))));
    assertEquals("invalid_token", err.code);
    assertEquals("untrusted signer", err.reason);
  }

  @Test
  void anAesTokenIsRefusedByAnotherAesKeyWithTheSameKid() {
    Token token =
        RelayAPI.builder().rai(key("aes")).warnings(w -> {}).build().createToken(TokenRequest.builder().build());
    // aes-other.rai reuses aes.rai's kid with a different secret.
    TestDecoder.DecodeError err =
        assertThrows(
            TestDecoder.DecodeError.class,
            () -> TestDecoder.open(token.value(), List.of(Fixtures.relayKeys(key("aes_other")))));
    assertEquals("invalid_token", err.code);
  }
}
