package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading (file, JSON, environment), relay URLs and base URLs, thread safety. */
class RelayAPITest {
  @Test
  void fromEnvTakesAPathOrTheJsonItself(@TempDir Path dir) throws Exception {
    String json = Fixtures.aesRai("relay.example.com", 443, "/ai").toString();
    Path file = dir.resolve("backend.rai");
    Files.writeString(file, json);
    Map<String, String> env = Map.of("RELAYAPI_RAI", file.toString());
    assertEquals("https://relay.example.com/ai", RelayAPI.builder().raiFromEnv(env::get).build().relayUrl());
    Map<String, String> inline = Map.of("RELAYAPI_RAI", "  " + json + "\n");
    assertEquals("https://relay.example.com/ai", RelayAPI.builder().raiFromEnv(inline::get).build().relayUrl());
    Map<String, String> none = Map.of();
    InvalidConfigException err =
        assertThrows(InvalidConfigException.class, () -> RelayAPI.builder().raiFromEnv(none::get).build());
    assertTrue(err.getMessage().contains("RELAYAPI_RAI"));
    Map<String, String> broken = Map.of("RELAYAPI_RAI", "{not json");
    err = assertThrows(InvalidConfigException.class, () -> RelayAPI.builder().raiFromEnv(broken::get).build());
    assertTrue(err.getMessage().contains("RELAYAPI_RAI"), err.getMessage());
  }

  @Test
  void theRelayUrlCanBeOverridden() {
    String json = Fixtures.aesRai().toString();
    RelayAPI relay = RelayAPI.builder().raiJson(json).relayUrl("https://relay.example.com/base/").build();
    assertEquals("https://relay.example.com/base", relay.relayUrl());
    assertEquals("https://relay.example.com/base/t/abc.def/v1", relay.baseUrl("abc.def"));
    for (String bad : new String[] {"relay.example.com", "ftp://x", "http://", "http://a b", "http://a/?q"}) {
      InvalidArgumentException e =
          assertThrows(InvalidArgumentException.class, () -> RelayAPI.builder().raiJson(json).relayUrl(bad).build());
      assertEquals("relayUrl", e.param());
    }
  }

  @Test
  void baseUrlsPerFlavor() {
    RelayAPI relay = RelayAPI.fromJson(Fixtures.aesRai("127.0.0.1", 8840, "/relay").toString());
    Token token = relay.createToken(TokenRequest.builder().build());
    String root = "http://127.0.0.1:8840/relay/t/" + token.value();
    assertEquals(root + "/v1", relay.baseUrl(token));
    assertEquals(root + "/v1", relay.baseUrl(token.value()));
    assertEquals(root + "/v1", relay.baseUrl(token, Flavor.OPENAI));
    assertEquals(root, relay.baseUrl(token, Flavor.ANTHROPIC));
    assertEquals(root, relay.baseUrl(token.value(), Flavor.GEMINI));
    assertTrue(relay.generateUrl(TokenRequest.builder().build()).endsWith("/v1"));
    assertTrue(relay.generateUrl(TokenRequest.builder().build(), Flavor.ANTHROPIC).matches(".*/t/[A-Za-z0-9._-]+"));
    for (String bad : new String[] {"", "a/b", "a b", "a?b", null, "x".repeat(8193)}) {
      assertEquals("token", assertThrows(InvalidArgumentException.class, () -> relay.baseUrl(bad)).param());
    }
    assertEquals("flavor", assertThrows(InvalidArgumentException.class, () -> relay.baseUrl("abc", null)).param());
  }

  @Test
  void oneClientMintsFromManyThreads() throws Exception {
    for (String json : List.of(Fixtures.aesRai().toString(), Fixtures.eccRaiPair("127.0.0.1", 8840)[0].toString())) {
      RelayAPI relay = RelayAPI.fromJson(json);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      Set<String> ids = ConcurrentHashMap.newKeySet();
      List<Future<Token>> futures = new ArrayList<>();
      try {
        for (int i = 0; i < 200; i++) {
          long calls = i + 1;
          futures.add(pool.submit(() -> relay.createToken(TokenRequest.builder().maxCalls(calls).build())));
        }
        KeyFile keys;
        if (relay.method().equals("aes")) {
          keys = Fixtures.relayKeysJson(json);
        } else {
          keys = null;
        }
        for (int i = 0; i < futures.size(); i++) {
          Token t = futures.get(i).get();
          ids.add(t.id());
          assertEquals((long) i + 1, t.claims().get("max_calls"));
          if (keys != null) {
            long iat = ((Number) t.claims().get("iat")).longValue();
            assertEquals(t.id(), TestDecoder.decode(t.value(), List.of(keys), iat, 30).get("jti"));
          }
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(200, ids.size());
    }
  }
}
