package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every entry of testdata/vectors/keyfiles.json, and the .rai rules of docs/token-format.md §3. */
class KeyFilesTest {
  static final JsonNode ENTRIES =
      Fixtures.readJson(Fixtures.vectorsDir().resolve("keyfiles.json")).path("key_files");

  static final String EXAMPLE_KEY_ERROR =
      "crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens "
          + "with it. Make a real key with: relayapi keygen --method aes --out default.rai";

  @Test
  void theVectorFileCoversLoadingAndRefusing() {
    boolean loads = false;
    boolean refuses = false;
    for (JsonNode e : ENTRIES) {
      loads |= e.has("base_url");
      refuses |= e.has("error_contains");
      assertTrue(Files.isRegularFile(Fixtures.vectorsDir().resolve(e.path("file").asText())));
    }
    assertTrue(loads && refuses);
  }

  @TestFactory
  Stream<DynamicTest> everyKeyFile() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode entry : ENTRIES) {
      Path file = Fixtures.vectorsDir().resolve(entry.path("file").asText());
      tests.add(
          DynamicTest.dynamicTest(
              entry.path("file").asText(),
              () -> {
                Fixtures.Warnings warnings = new Fixtures.Warnings();
                if (entry.has("error_contains")) {
                  InvalidConfigException err =
                      assertThrows(
                          InvalidConfigException.class,
                          () -> RelayAPI.builder().rai(file).warnings(warnings).build());
                  assertEquals("invalid_config", err.code());
                  for (JsonNode text : entry.path("error_contains")) {
                    assertTrue(err.getMessage().contains(text.asText()), err.getMessage());
                  }
                  assertTrue(err.getMessage().contains(file.toString()), "says which file");
                  // The same through fromJson.
                  InvalidConfigException again =
                      assertThrows(
                          InvalidConfigException.class,
                          () -> RelayAPI.builder().raiJson(Files.readString(file)).warnings(w -> {}).build());
                  for (JsonNode text : entry.path("error_contains")) {
                    assertTrue(again.getMessage().contains(text.asText()), again.getMessage());
                  }
                  return;
                }
                RelayAPI relay = RelayAPI.builder().rai(file).warnings(warnings).build();
                assertEquals(entry.path("base_url").asText(), relay.relayUrl());
                assertEquals(entry.path("openai_url").asText(), relay.baseUrl("TOKEN"));
                assertEquals(entry.path("warnings").size(), warnings.messages.size(), warnings.messages.toString());
                for (int i = 0; i < warnings.messages.size(); i++) {
                  assertTrue(warnings.messages.get(i).contains(entry.path("warnings").get(i).asText()));
                }
              }));
    }
    return tests.stream();
  }

  @Test
  void theExampleKeyMessageIsTheSharedWording() {
    ObjectNode rai = Fixtures.aesRai();
    ((ObjectNode) rai.get("crypto")).put("aes_key", "0123456789ABCDEF".repeat(4)); // any case
    InvalidConfigException err = assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(rai.toString()));
    assertEquals(".rai: " + EXAMPLE_KEY_ERROR, err.getMessage());
  }

  static RelayAPI withServer(String serverJson) {
    ObjectNode rai = Fixtures.aesRai();
    rai.set("server", Fixtures.readJsonBytes(serverJson.getBytes()));
    return RelayAPI.fromJson(rai.toString());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"host\": \"http://localhost\", \"port\": 8840, \"base_path\": \"/relayapi/\"} | http://localhost:8840/relayapi",
        "{\"host\": \"HTTPS://Relay.example.com\", \"port\": 443} | https://Relay.example.com",
        "{\"host\": \"http://relay.example.com\", \"port\": 443} | http://relay.example.com:443",
        "{\"host\": \"https://relay.example.com\", \"port\": 80} | https://relay.example.com:80",
        "{\"host\": \"http://relay.example.com:9000\"} | http://relay.example.com:9000",
        "{\"host\": \"http://relay.example.com:9000\", \"port\": 9000} | http://relay.example.com:9000",
        "{\"host\": \"https://relay.example.com\"} | https://relay.example.com:8840",
        "{\"host\": \"http://[::1]:8840\", \"base_path\": \"/\"} | http://[::1]:8840",
        "{\"host\": \"http://h\", \"scheme\": \"http\", \"base_path\": \"/a/b/\"} | http://h:8840/a/b",
        "{\"host\": \"relay.internal\", \"port\": 443} | https://relay.internal",
        "{\"host\": \"::1\", \"port\": 80, \"scheme\": \"http\"} | http://[::1]",
        "{} | http://127.0.0.1:8840",
        "{\"port\": \"9000\"} | http://127.0.0.1:9000",
      })
  void oneDotXServerSections(String server, String url) {
    assertEquals(url, withServer(server).relayUrl());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"host\": \"ftp://relay.example.com\"} | server.host",
        "{\"host\": \"http://\"} | server.host",
        "{\"host\": \"http://user@relay.example.com\"} | server.host",
        "{\"host\": \"http://relay.example.com?x=1\"} | server.host",
        "{\"host\": \"http://relay.example.com#x\"} | server.host",
        "{\"host\": \"http://relay.example.com/\"} | server.host",
        "{\"host\": \"http://relay.example.com:\"} | server.host",
        "{\"host\": \"http://relay.example.com:9000\", \"port\": 9001} | server.host",
        "{\"host\": \"http://relay.example.com:99999\"} | server.host",
        "{\"host\": \"https://relay.example.com\", \"scheme\": \"http\"} | server.host",
        "{\"host\": \"relay.example.com/api\"} | server.host",
        "{\"host\": 7} | server.host",
        "{\"port\": 70000} | server.port",
        "{\"port\": 8840.5} | server.port",
        "{\"scheme\": \"ftp\"} | server.scheme",
        "{\"base_path\": \"relayapi/\"} | base_path",
        "{\"base_path\": \"//\"} | base_path",
        "{\"base_path\": \"/relayapi//\"} | base_path",
        "{\"base_path\": \"/a//b\"} | base_path",
        "{\"base_path\": \"/a b\"} | base_path",
        "{\"base_path\": \"/a?b\"} | base_path",
      })
  void badServerSections(String server, String field) {
    InvalidConfigException err = assertThrows(InvalidConfigException.class, () -> withServer(server));
    assertTrue(err.getMessage().contains(field), err.getMessage());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"method\": \"aes\", \"aes_key\": \"abc\"} | crypto.aes_key",
        "{\"method\": \"aes\"} | crypto.aes_key",
        "{\"method\": \"rsa\"} | crypto.method",
        "{\"method\": \"aes\", \"aes_key\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\", \"key_id\": \"bad kid!\"} | crypto.key_id",
        "{\"method\": \"ecc\"} | an ecc file needs",
        "{\"method\": \"ecc\", \"signing_key\": {\"kty\": \"EC\", \"crv\": \"P-384\", \"x\": \"a\", \"y\": \"b\", \"d\": \"c\"}, \"relay_public_key\": {}} | crypto.signing_key",
      })
  void badCryptoSections(String crypto, String field) {
    ObjectNode rai = Fixtures.aesRai();
    rai.set("crypto", Fixtures.readJsonBytes(crypto.getBytes()));
    InvalidConfigException err = assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(rai.toString()));
    assertTrue(err.getMessage().contains(field), err.getMessage());
  }

  @Test
  void notJsonOrNotAnObject() {
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson("{"));
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson("[1]"));
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson("{\"server\": {}}"));
  }

  @Test
  void aMissingFileSaysHowToMakeOne(@TempDir Path dir) {
    InvalidConfigException err =
        assertThrows(InvalidConfigException.class, () -> RelayAPI.fromFile(dir.resolve("default.rai")));
    assertTrue(err.getMessage().contains("relayapi keygen"), err.getMessage());
  }

  @Test
  void anEccRelayFileIsTheWrongRole() {
    ObjectNode[] pair = Fixtures.eccRaiPair("127.0.0.1", 8840);
    InvalidConfigException err = assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(pair[1].toString()));
    assertTrue(err.getMessage().contains("wrong role"), err.getMessage());
    assertEquals("ecc", RelayAPI.fromJson(pair[0].toString()).method());
  }

  @Test
  void eccKeysAreChecked() {
    ObjectNode[] pair = Fixtures.eccRaiPair("127.0.0.1", 8840);
    ObjectNode crypto = (ObjectNode) pair[0].get("crypto");
    // A public key with a private part.
    ObjectNode relayPublic = (ObjectNode) crypto.get("relay_public_key");
    relayPublic.put("d", crypto.get("signing_key").get("d").asText());
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(pair[0].toString()));
    relayPublic.remove("d");
    // A point that is not on the curve.
    String x = relayPublic.get("x").asText();
    relayPublic.put("x", (x.charAt(0) == 'A' ? "B" : "A") + x.substring(1));
    InvalidConfigException err = assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(pair[0].toString()));
    assertTrue(err.getMessage().contains("relay_public_key"), err.getMessage());
    relayPublic.put("x", x);
    // Wrong alg and use.
    ((ObjectNode) crypto.get("signing_key")).put("alg", "ECDH-ES");
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(pair[0].toString()));
    ((ObjectNode) crypto.get("signing_key")).put("alg", "ES256").put("use", "enc");
    assertThrows(InvalidConfigException.class, () -> RelayAPI.fromJson(pair[0].toString()));
    ((ObjectNode) crypto.get("signing_key")).put("use", "sig");
    assertEquals("ecc", RelayAPI.fromJson(pair[0].toString()).method());
  }

  @Test
  void unknownTopLevelKeysAreIgnored() {
    ObjectNode rai = Fixtures.aesRai();
    rai.put("comment", "future field");
    rai.putObject("future").put("x", 1);
    assertEquals("aes", RelayAPI.fromJson(rai.toString()).method());
  }
}
