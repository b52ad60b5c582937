package com.github.relayapi.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.relayapi.Fixtures;
import io.github.relayapi.InvalidConfigException;
import io.github.relayapi.TestDecoders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The 1.x Java API (package com.github.relayapi.sdk) over the new SDK, without a relay. */
@SuppressWarnings("deprecation")
class LegacyTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final String FAKE = "hdr.key.iv.ct.tag"; // five parts, as a 2.x token has

  static Config config(Path file) throws Exception {
    return MAPPER.readValue(Files.readString(file), Config.class);
  }

  static Config config(String json) throws Exception {
    return MAPPER.readValue(json, Config.class);
  }

  static Path vector(String name) {
    return Fixtures.vectorsDir().resolve(name);
  }

  @Test
  void aOneDotXKeyFileReadsWithJacksonIntoConfig() throws Exception {
    Config config = config(vector("v1-seed.rai"));
    assertEquals("1.0.0", config.getVersion());
    assertEquals("http://localhost", config.getServer().getHost());
    assertEquals(8840, config.getServer().getPort());
    assertEquals("/relayapi/", config.getServer().getBasePath());
    assertEquals("aes", config.getCrypto().getMethod());
    assertEquals(64, config.getCrypto().getAesKey().length());
    assertEquals("fedcba9876543210", config.getCrypto().getAesIvSeed());
    RelayAPIClient client = new RelayAPIClient(config);
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1", client.generateUrl(FAKE, ""));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1", client.generateUrl(FAKE, null));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1/chat/completions", client.generateUrl(FAKE, "chat/completions"));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1/chat/completions", client.generateUrl(FAKE, "v1/chat/completions"));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1/embeddings", client.generateUrl(FAKE, "/v1/embeddings"));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1/images/generations", client.generateUrl(FAKE, "images/generations"));
    assertEquals("http://localhost:8840/relayapi/t/" + FAKE + "/v1", client.generateUrl(" " + FAKE + "\n", ""));
  }

  @Test
  void badTokensAndEndpointsAreRefused() throws Exception {
    RelayAPIClient client = new RelayAPIClient(config(vector("v1-seed.rai")));
    for (String bad : new String[] {"../admin", "chat/../../admin", "a?b", "a b", "a#b"}) {
      assertThrows(IllegalArgumentException.class, () -> client.generateUrl(FAKE, bad), bad);
    }
    IllegalArgumentException err =
        assertThrows(IllegalArgumentException.class, () -> client.generateUrl("a1x-token-in-the-old-format", ""));
    assertTrue(err.getMessage().contains("1.x tokens are not accepted"), err.getMessage());
    assertThrows(IllegalArgumentException.class, () -> client.generateUrl(null, ""));
    assertThrows(IllegalArgumentException.class, () -> client.generateUrl("a/b.c.d.e.f", ""));
  }

  @TestFactory
  Stream<DynamicTest> everyKeyFileThroughConfig() {
    JsonNode entries = Fixtures.readJson(Fixtures.vectorsDir().resolve("keyfiles.json")).path("key_files");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode entry : entries) {
      tests.add(
          DynamicTest.dynamicTest(
              entry.path("file").asText(),
              () -> {
                Config config = config(vector(entry.path("file").asText()));
                if (entry.has("error_contains")) {
                  IllegalArgumentException err =
                      assertThrows(IllegalArgumentException.class, () -> new RelayAPIClient(config));
                  for (JsonNode text : entry.path("error_contains")) {
                    assertTrue(err.getMessage().contains(text.asText()), err.getMessage());
                  }
                  assertInstanceOf(InvalidConfigException.class, err.getCause());
                  return;
                }
                RelayAPIClient client = new RelayAPIClient(config);
                assertEquals(entry.path("openai_url").asText().replace("TOKEN", FAKE), client.generateUrl(FAKE, ""));
                assertEquals(entry.path("base_url").asText(), new TokenGenerator(config).getServerUrl(""));
              }));
    }
    return tests.stream();
  }

  @Test
  void theExampleKeyIsRefusedWithTheSharedMessage() throws Exception {
    Config config = config(vector("v1-example-key.rai"));
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> new RelayAPIClient(config));
    assertEquals(
        ".rai: crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens with it. "
            + "Make a real key with: relayapi keygen --method aes --out default.rai",
        err.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new TokenGenerator(config));
  }

  @Test
  void aConfigWithoutCryptoIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new RelayAPIClient(new Config()));
    assertThrows(IllegalArgumentException.class, () -> new RelayAPIClient(null));
  }

  @Test
  void fieldsConfigDoesNotNameAreKept() throws Exception {
    // key_id (and the ecc keys) are not 1.x fields: Config keeps them.
    Config kid = config(vector("aes-kid.rai"));
    assertEquals("rotation-2026-01", new TokenGenerator(kid).getHash());
    Config ecc = config(vector("ecc-backend.rai"));
    TokenGenerator generator = new TokenGenerator(ecc);
    String token = new RelayAPIClient(ecc).createToken(new TokenOptions("sk-ecc").setProvider("openai"));
    Map<String, Object> claims = TestDecoders.open(token, vector("ecc-relay.rai"));
    assertEquals("sk-ecc", claims.get("api_key"));
    assertEquals(generator.getHash(), TestDecoders.header(token).path("kid").asText());
    Config scheme = config("{\"server\":{\"scheme\":\"https\",\"host\":\"relay.example.com\",\"port\":443},"
        + "\"crypto\":{\"method\":\"aes\",\"aes_key\":\"" + Fixtures.randomHexKey() + "\"}}");
    assertEquals("https://relay.example.com", new TokenGenerator(scheme).getServerUrl(""));
    // And Jackson writes them back.
    assertTrue(MAPPER.writeValueAsString(kid).contains("\"key_id\":\"rotation-2026-01\""));
  }

  static Config fresh() throws Exception {
    return config(Fixtures.v1Rai(8840).toString());
  }

  @Test
  void tokenOptionsHaveTheOneDotXDefaults() throws Exception {
    Config config = fresh();
    TokenOptions options = new TokenOptions("sk-default");
    assertEquals(100, options.getMaxCalls());
    assertEquals(86400, options.getExpireSeconds());
    assertEquals("dashscope", options.getProvider());
    assertEquals("", options.getExtInfo());
    String token = new RelayAPIClient(config).createToken(options);
    Map<String, Object> claims = TestDecoders.open(token, MAPPER.writeValueAsString(config));
    assertEquals("dashscope", claims.get("provider"));
    assertEquals("sk-default", claims.get("api_key"));
    assertEquals(100, ((Number) claims.get("max_calls")).intValue());
    assertEquals(86400, ((Number) claims.get("exp")).longValue() - ((Number) claims.get("iat")).longValue());
    assertFalse(claims.containsKey("meta"));
    assertFalse(claims.containsKey("model_map"));
  }

  @Test
  void theFluentSettersAsOneDotXCodeUsesThem() throws Exception {
    Config config = fresh();
    RelayAPIClient client = new RelayAPIClient(config);
    String token =
        client.createToken(new TokenOptions("sk-fluent").setMaxCalls(7).setExpireSeconds(3600).setProvider("openai"));
    Map<String, Object> claims = TestDecoders.open(token, MAPPER.writeValueAsString(config));
    assertEquals("openai", claims.get("provider"));
    assertEquals(7, ((Number) claims.get("max_calls")).intValue());
    assertEquals(3600, ((Number) claims.get("exp")).longValue() - ((Number) claims.get("iat")).longValue());
    TokenOptions noKey = new TokenOptions(null).setProvider("openai");
    assertFalse(TestDecoders.open(client.createToken(noKey), MAPPER.writeValueAsString(config)).containsKey("api_key"));
    noKey.setApiKey("sk-later");
    assertEquals("sk-later", noKey.getApiKey());
  }

  @Test
  void invalidOptionsAreIllegalArgumentsNamingTheOption() throws Exception {
    RelayAPIClient client = new RelayAPIClient(fresh());
    Object[][] cases = {
      {new TokenOptions("sk").setMaxCalls(0), "maxCalls"},
      {new TokenOptions("sk").setExpireSeconds(0), "expireSeconds"},
      {new TokenOptions("sk").setProvider("Bad Provider"), "provider"},
      {new TokenOptions("sk key"), "apiKey"},
      {new TokenOptions("sk").setExtInfo("{\"rep_m\": 5}"), "extInfo"},
      {new TokenOptions("sk").setExtInfo("x".repeat(257)), "extInfo"},
    };
    for (Object[] c : cases) {
      IllegalArgumentException err =
          assertThrows(IllegalArgumentException.class, () -> client.createToken((TokenOptions) c[0]));
      assertTrue(err.getMessage().startsWith(c[1] + ": "), err.getMessage());
      assertFalse(err.getMessage().contains("sk key"), "the key is never echoed");
    }
  }

  static Map<String, Object> extInfo(String extInfo) throws Exception {
    Map<String, Object> claims = new TokenGenerator(fresh()).createToken(new TokenOptions("sk").setExtInfo(extInfo));
    Map<String, Object> out = new LinkedHashMap<>();
    if (claims.containsKey("model_map")) {
      out.put("model_map", claims.get("model_map"));
    }
    if (claims.containsKey("meta")) {
      out.put("meta", claims.get("meta"));
    }
    return out;
  }

  @Test
  void extInfoMapsToModelMapAndMeta() throws Exception {
    assertEquals(Map.of(), extInfo(""));
    assertEquals(Map.of(), extInfo(null));
    assertEquals(Map.of("model_map", Map.of("*", "gpt-4o-mini")), extInfo("{\"rep_m\":\"gpt-4o-mini\"}"));
    assertEquals(
        Map.of("model_map", Map.of("*", "gpt-4o-mini"), "meta", Map.of("user", "u-42", "n", "3", "o", "{\"a\":[1,true]}")),
        extInfo("{\"rep_m\":\"gpt-4o-mini\",\"user\":\"u-42\",\"n\":3,\"o\":{\"a\":[1,true]}}"));
    assertEquals(Map.of(), extInfo("{\"rep_m\":\"\"}"));
    assertEquals(Map.of(), extInfo("{\"rep_m\":null}"));
    assertEquals(Map.of("meta", Map.of("ext_info", "free text")), extInfo("free text"));
    assertEquals(Map.of("meta", Map.of("ext_info", "[1,2]")), extInfo("[1,2]"));
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 33; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
    }
    assertThrows(IllegalArgumentException.class, () -> extInfo(many.append("}").toString()));
    assertThrows(IllegalArgumentException.class, () -> extInfo("{\"" + "k".repeat(65) + "\":\"v\"}"));
    assertThrows(IllegalArgumentException.class, () -> extInfo("{\"k\":\"\"}"));
  }

  @Test
  void theTokenGeneratorMintsItsClaims() throws Exception {
    Config config = fresh();
    TokenGenerator generator = new TokenGenerator(config);
    Map<String, Object> data = generator.createToken(new TokenOptions("sk-gen").setProvider("openai").setMaxCalls(3));
    assertEquals("openai", data.get("provider"));
    String token = generator.encryptToken(data);
    Map<String, Object> claims = TestDecoders.open(token, MAPPER.writeValueAsString(config));
    assertEquals(Fixtures.tree(data), Fixtures.tree(claims));
    assertEquals("http://127.0.0.1:8840/relayapi/health", generator.getServerUrl("health"));
    assertEquals("http://127.0.0.1:8840/relayapi/health", generator.getServerUrl("/health"));
    assertEquals(TestDecoders.header(token).path("kid").asText(), generator.getHash());

    Map<String, Object> old = new LinkedHashMap<>(data);
    old.put("expire_time", "2026-01-01T00:00:00Z");
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> generator.encryptToken(old));
    assertTrue(err.getMessage().contains("1.x token data"));
    Map<String, Object> broken = new LinkedHashMap<>(data);
    broken.put("max_calls", 0);
    assertThrows(IllegalArgumentException.class, () -> generator.encryptToken(broken));
  }

  @Test
  void requestBodiesAreAsOneDotXSentThem() {
    Map<String, Object> chat =
        new RelayAPIClient.ChatRequest("t").setMessages(List.of(Map.of("role", "user", "content", "hi"))).toRequestBody();
    assertEquals(List.of("messages", "model", "temperature", "max_tokens"), new ArrayList<>(chat.keySet()));
    assertEquals("gpt-3.5-turbo", chat.get("model"));
    assertEquals(0.7, chat.get("temperature"));
    assertEquals(1000, chat.get("max_tokens"));
    Map<String, Object> image = new RelayAPIClient.ImageRequest("t").setPrompt("p").toRequestBody();
    assertEquals(Map.of("prompt", "p", "model", "dall-e-3", "size", "1024x1024", "quality", "standard", "n", 1), image);
    Map<String, Object> emb = new RelayAPIClient.EmbeddingRequest("t").setInput("x").toRequestBody();
    assertEquals(Map.of("input", "x", "model", "text-embedding-ada-002"), emb);
  }
}
