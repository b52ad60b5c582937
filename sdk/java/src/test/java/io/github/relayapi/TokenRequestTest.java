package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** createToken validation: InvalidArgumentException naming the builder method, before any encryption. */
class TokenRequestTest {
  static final String RAI = Fixtures.aesRai().toString();
  static final RelayAPI RELAY = RelayAPI.fromJson(RAI);
  static final KeyFile KEYS = Fixtures.relayKeysJson(RAI);

  private static Map<String, String> mapOf(int n, String keyPrefix, String value) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(keyPrefix + i, value);
    }
    return m;
  }

  private static List<String> listOf(int n, String value) {
    return Collections.nCopies(n, value);
  }

  private static Map<String, String> entry(String k, String v) {
    Map<String, String> m = new HashMap<>();
    m.put(k, v);
    return m;
  }

  private static DynamicTest bad(String param, String name, UnaryOperator<TokenRequest.Builder> set) {
    return DynamicTest.dynamicTest(
        param + ": " + name,
        () -> {
          TokenRequest request = set.apply(TokenRequest.builder()).build();
          InvalidArgumentException err =
              assertThrows(InvalidArgumentException.class, () -> RELAY.createToken(request));
          assertEquals(param, err.param(), err.getMessage());
          assertEquals("invalid_argument", err.code());
          assertTrue(err.getMessage().startsWith(param + ": "), err.getMessage());
        });
  }

  @TestFactory
  Stream<DynamicTest> invalidValuesAreNamed() {
    String s65 = "a".repeat(65);
    return Stream.of(
        bad("provider", "empty", b -> b.provider("")),
        bad("provider", "upper case", b -> b.provider("OpenAI")),
        bad("provider", "leading dash", b -> b.provider("-openai")),
        bad("provider", "too long", b -> b.provider(s65)),
        bad("provider", "newline", b -> b.provider("openai\n")),
        bad("provider", "null", b -> b.provider(null)),
        bad("apiKey", "empty", b -> b.apiKey("")),
        bad("apiKey", "spaces", b -> b.apiKey("sk key with spaces")),
        bad("apiKey", "newline", b -> b.apiKey("sk-\n")),
        bad("apiKey", "non-ASCII", b -> b.apiKey("sk-é")),
        bad("apiKey", "too long", b -> b.apiKey("k".repeat(4097))),
        bad("expiresIn", "zero", b -> b.expiresIn(0)),
        bad("expiresIn", "negative", b -> b.expiresIn(-10)),
        bad("expiresIn", "negative duration", b -> b.expiresIn(Duration.ofSeconds(-1))),
        bad("expiresIn", "under a second", b -> b.expiresIn(Duration.ofMillis(500))),
        bad("expiresIn", "and expiresAt", b -> b.expiresIn(60).expiresAt(Instant.now().plusSeconds(60))),
        bad("expiresAt", "before the epoch", b -> b.expiresAt(Instant.ofEpochSecond(-5))),
        bad("maxCalls", "zero", b -> b.maxCalls(0)),
        bad("maxCalls", "negative", b -> b.maxCalls(-1)),
        bad("maxCalls", "2^53", b -> b.maxCalls(1L << 53)),
        bad("rpm", "zero", b -> b.rpm(0)),
        bad("rpm", "too many", b -> b.rpm(1_000_001)),
        bad("concurrency", "zero", b -> b.concurrency(0)),
        bad("concurrency", "too many", b -> b.concurrency(100_001)),
        bad("maxTokens", "zero", b -> b.maxTokens(0)),
        bad("maxTokens", "2^31", b -> b.maxTokens(1L << 31)),
        bad("tokenBudget", "zero", b -> b.tokenBudget(0)),
        bad("tokenBudget", "2^53", b -> b.tokenBudget(1L << 53)),
        bad("maxSessionSeconds", "zero", b -> b.maxSessionSeconds(0)),
        bad("maxSessionSeconds", "negative", b -> b.maxSessionSeconds(-1)),
        bad("maxSessionSeconds", "over a day", b -> b.maxSessionSeconds(86_401)),
        bad("models", "empty list", b -> b.models(List.of())),
        bad("models", "empty pattern", b -> b.models("")),
        bad("models", "long pattern", b -> b.models("m".repeat(257))),
        bad("models", "null entry", b -> b.models(Arrays.asList("gpt-4o", null))),
        bad("models", "101 entries", b -> b.models(listOf(101, "m"))),
        bad("paths", "relative", b -> b.paths("v1/chat")),
        bad("paths", "empty list", b -> b.paths(List.of())),
        bad("paths", "long", b -> b.paths("/" + "p".repeat(1024))),
        bad("ips", "prefix 33", b -> b.ips("10.0.0.0/33")),
        bad("ips", "a name", b -> b.ips("not-an-ip")),
        bad("ips", "netmask", b -> b.ips("10.0.0.0/255.0.0.0")),
        bad("ips", "leading zero prefix", b -> b.ips("10.0.0.0/08")),
        bad("ips", "v6 prefix 129", b -> b.ips("2001:db8::/129")),
        bad("ips", "zone with prefix", b -> b.ips("fe80::1%eth0/64")),
        bad("ips", "leading zero octet", b -> b.ips("010.0.0.1")),
        bad("ips", "three groups of v6", b -> b.ips("1:2:3")),
        bad("ips", "empty list", b -> b.ips(List.of())),
        bad("origins", "trailing slash", b -> b.origins("https://app.example.com/")),
        bad("origins", "path", b -> b.origins("https://app.example.com/path")),
        bad("origins", "upper case", b -> b.origins("https://App.Example.com")),
        bad("origins", "no scheme", b -> b.origins("app.example.com")),
        bad("origins", "wildcard with slash", b -> b.origins("https://*.example.com/")),
        bad("origins", "port 0", b -> b.origins("http://localhost:0")),
        bad("origins", "bad IPv6", b -> b.origins("http://[::g]")),
        bad("origins", "empty list", b -> b.origins(List.of())),
        bad("modelMap", "empty", b -> b.modelMap(Map.of())),
        bad("modelMap", "empty value", b -> b.modelMap(Map.of("gpt-4", ""))),
        bad("modelMap", "empty key", b -> b.modelMap(Map.of("", "gpt-4o"))),
        bad("modelMap", "101 entries", b -> b.modelMap(mapOf(101, "m", "x"))),
        bad("meta", "empty", b -> b.meta(Map.of())),
        bad("meta", "long key", b -> b.meta(Map.of("k".repeat(65), "v"))),
        bad("meta", "long value", b -> b.meta(Map.of("k", "v".repeat(257)))),
        bad("meta", "33 entries", b -> b.meta(mapOf(33, "k", "v"))),
        bad("meta", "null value", b -> b.meta(entry("k", null))),
        bad("sub", "empty", b -> b.sub("")),
        bad("sub", "257 bytes", b -> b.sub("u".repeat(257))),
        bad("sub", "258 UTF-8 bytes", b -> b.sub("用".repeat(86))),
        bad("sub", "lone surrogate", b -> b.sub("a\ud800b")),
        bad("notBefore", "after the expiry", b -> b.notBefore(Duration.ofHours(2))),
        bad("notBefore", "before the epoch", b -> b.notBefore(Instant.ofEpochSecond(-1))),
        bad("jti", "short", b -> b.jti("short")),
        bad("jti", "long", b -> b.jti("x".repeat(129))),
        bad("jti", "spaces", b -> b.jti("has spaces in the token id")),
        bad("jti", "slashes", b -> b.jti("slash/in/the/token/id")),
        bad("extra", "no x_ prefix", b -> b.extra("trace", 1)),
        bad("extra", "only x_", b -> b.extra("x_", 1)),
        bad("extra.x_nan", "NaN", b -> b.extra("x_nan", Double.NaN)),
        bad("extra.x_inf", "nested infinity", b -> b.extra("x_inf", List.of(1, Double.POSITIVE_INFINITY))),
        bad("extra.x_obj", "not JSON", b -> b.extra("x_obj", new Object())));
  }

  @Test
  void theApiKeyIsNeverEchoed() {
    InvalidArgumentException err =
        assertThrows(
            InvalidArgumentException.class,
            () -> RELAY.createToken(TokenRequest.builder().apiKey("sk-secret value").build()));
    assertFalse(err.getMessage().contains("sk-secret"), err.getMessage());
  }

  private static DynamicTest good(String name, UnaryOperator<TokenRequest.Builder> set) {
    return DynamicTest.dynamicTest(
        name,
        () -> {
          Token token = RELAY.createToken(set.apply(TokenRequest.builder()).build());
          long now = Instant.now().getEpochSecond();
          Map<String, Object> claims = TestDecoder.decode(token.value(), List.of(KEYS), now, 30);
          assertEquals(Fixtures.tree(token.claims()), Fixtures.tree(claims));
        });
  }

  @TestFactory
  Stream<DynamicTest> validValuesRoundTrip() {
    return Stream.of(
        good("provider", b -> b.provider("my-provider_2")),
        good("apiKey 4096", b -> b.apiKey("k".repeat(4096))),
        good("expiresIn 30 days", b -> b.expiresIn(Duration.ofDays(30))),
        good("expiresAt", b -> b.expiresAt(Instant.now().plus(Duration.ofHours(3)))),
        good("maxCalls 2^53-1", b -> b.maxCalls((1L << 53) - 1)),
        good("rpm", b -> b.rpm(1_000_000)),
        good("concurrency", b -> b.concurrency(100_000)),
        good("maxTokens", b -> b.maxTokens(Integer.MAX_VALUE)),
        good("tokenBudget", b -> b.tokenBudget((1L << 53) - 1)),
        good("maxSessionSeconds 1", b -> b.maxSessionSeconds(1)),
        good("maxSessionSeconds 86400", b -> b.maxSessionSeconds(86_400)),
        good("models", b -> b.models("gpt-4o*", "claude-*")),
        good("paths", b -> b.paths("/")),
        good("ips", b -> b.ips("::1", "10.0.0.1/8", "0.0.0.0/0", "::ffff:1.2.3.4", "fe80::1%eth0", "2001:db8::/32")),
        good("origins", b -> b.origins("*", "http://localhost:3000", "https://[::1]:8443", "chrome-extension://abc", "https://*.example.com")),
        good("meta", b -> b.meta(Map.of("k".repeat(64), "v".repeat(256)))),
        good("modelMap *", b -> b.modelMap(Map.of("*", "gpt-4o-mini"))),
        good("sub 255 bytes", b -> b.sub("用".repeat(85))),
        good("sub emoji", b -> b.sub("user-\uD83D\uDE00")),
        good("notBefore now", b -> b.notBefore(Instant.now())),
        good("notBefore 0", b -> b.notBefore(Instant.EPOCH)),
        good("jti", b -> b.jti("a.b_c:d-e" + "0".repeat(7))),
        good("issuedAt", b -> b.issuedAt(Instant.now().minusSeconds(5))),
        good(
            "extra",
            b -> b.extra("x_list", Arrays.asList(1, "a", null)).extra("x_num", 1.5).extra("x_obj", Map.of("a", true))),
        good("extra JsonNode", b -> b.extra("x_node", Fixtures.readJsonBytes("{\"k\":[1,2]}".getBytes()))));
  }

  @Test
  void everyClaimInOneToken() throws Exception {
    Instant fixed = Instant.parse("2026-03-01T12:00:00Z");
    RelayAPI relay = RelayAPI.builder().raiJson(RAI).clock(Clock.fixed(fixed, ZoneOffset.UTC)).build();
    TokenRequest request =
        TokenRequest.builder()
            .provider("anthropic")
            .apiKey("sk-ant-123")
            .expiresIn(Duration.ofMinutes(10))
            .notBefore(Duration.ofSeconds(5))
            .sub("user-42")
            .maxCalls(10)
            .models("claude-*")
            .paths("/v1/messages")
            .rpm(60)
            .concurrency(2)
            .maxTokens(1024)
            .tokenBudget(100_000)
            .maxSessionSeconds(1800)
            .ips("203.0.113.7", "10.0.0.0/8")
            .origins("https://app.example.com")
            .modelMap(Map.of("claude-3", "claude-3-5-haiku"))
            .meta(Map.of("team", "web"))
            .extra("x_trace", "abc")
            .build();
    Token token = relay.createToken(request);
    long now = fixed.getEpochSecond();
    assertEquals(Instant.ofEpochSecond(now + 600), token.expiresAt());
    assertEquals(22, token.id().length());
    Map<String, Object> claims = TestDecoder.decode(token.value(), List.of(KEYS), now + 10, 30);
    ObjectNode expected = Json.MAPPER.createObjectNode();
    expected.put("jti", token.id()).put("iat", now).put("exp", now + 600).put("nbf", now + 5);
    expected.put("provider", "anthropic").put("api_key", "sk-ant-123").put("sub", "user-42").put("max_calls", 10);
    expected.putArray("models").add("claude-*");
    expected.putArray("paths").add("/v1/messages");
    expected.put("rpm", 60).put("concurrency", 2).put("max_tokens", 1024).put("token_budget", 100_000);
    expected.put("max_session_seconds", 1800);
    expected.putArray("ips").add("203.0.113.7").add("10.0.0.0/8");
    expected.putArray("origins").add("https://app.example.com");
    expected.putObject("model_map").put("claude-3", "claude-3-5-haiku");
    expected.putObject("meta").put("team", "web");
    expected.put("x_trace", "abc");
    assertEquals(Fixtures.tree(expected), Fixtures.tree(claims));
    // nbf is honoured by the decoder.
    TestDecoder.DecodeError early =
        assertThrows(TestDecoder.DecodeError.class, () -> TestDecoder.decode(token.value(), List.of(KEYS), now - 60, 30));
    assertEquals("token_not_yet_valid", early.code);
  }

  @Test
  void defaultsAreOpenaiOneHourAndRandomIds() throws Exception {
    Token a = RELAY.createToken(TokenRequest.builder().build());
    Token b = RELAY.createToken(TokenRequest.builder().build());
    assertEquals("openai", a.claims().get("provider"));
    long iat = ((Number) a.claims().get("iat")).longValue();
    assertEquals(iat + 3600, ((Number) a.claims().get("exp")).longValue());
    assertNotEquals(a.id(), b.id());
    assertNotEquals(a.value(), b.value());
    assertTrue(a.id().matches("[A-Za-z0-9_-]{22}"));
    assertEquals(Set.of("jti", "iat", "exp", "provider"), a.claims().keySet());
  }

  @Test
  void theTokenIsImmutableAndDoesNotPrintItsValue() {
    Token token = RELAY.createToken(TokenRequest.builder().apiKey("sk-hidden").build());
    assertThrows(UnsupportedOperationException.class, () -> token.claims().put("max_calls", 1));
    assertFalse(token.toString().contains(token.value()));
    assertFalse(token.toString().contains("sk-hidden"));
    assertTrue(token.toString().contains(token.id()));
    assertFalse(RELAY.toString().contains(RAI.substring(RAI.indexOf("aes_key"))));
  }

  @Test
  void builtRequestsDoNotChangeWithTheBuilderOrTheCallersLists() {
    List<String> models = new ArrayList<>(List.of("gpt-4o"));
    TokenRequest.Builder builder = TokenRequest.builder().models(models);
    TokenRequest request = builder.build();
    models.add("gpt-3.5");
    builder.maxCalls(3);
    Map<String, Object> claims = RELAY.buildClaims(request);
    assertEquals(List.of("gpt-4o"), claims.get("models"));
    assertFalse(claims.containsKey("max_calls"));
    assertEquals(3L, RELAY.buildClaims(request.toBuilder().maxCalls(3).build()).get("max_calls"));
    // Setting null removes an optional claim.
    assertFalse(RELAY.buildClaims(request.toBuilder().models((List<String>) null).build()).containsKey("models"));
  }

  @Test
  void fromClaimsMintsExactlyTheseClaims() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>(RELAY.buildClaims(TokenRequest.builder().maxCalls(5).sub("u").build()));
    claims.put("x_extra", List.of(1, 2));
    Token token = RELAY.createToken(TokenRequest.fromClaims(claims));
    assertEquals(claims.get("jti"), token.id());
    long now = Instant.now().getEpochSecond();
    assertEquals(Fixtures.tree(claims), Fixtures.tree(TestDecoder.decode(token.value(), List.of(KEYS), now, 30)));
  }

  @Test
  void fromClaimsRejectsWrongTypesAndUnknownClaims() {
    Map<String, Object> base = new LinkedHashMap<>(RELAY.buildClaims(TokenRequest.builder().build()));
    Object[][] cases = {
      {"max_calls", "10", "maxCalls"},
      {"max_calls", 1.0, "maxCalls"},
      {"max_calls", true, "maxCalls"},
      {"rpm", 2.5, "rpm"},
      {"models", "gpt-4o", "models"},
      {"models", List.of("a", 5), "models"},
      {"model_map", List.of("gpt-4"), "modelMap"},
      {"meta", Map.of("k", 1), "meta"},
      {"sub", 42, "sub"},
      {"api_key", 123, "apiKey"},
      {"x_null", null, "extra.x_null"},
    };
    for (Object[] c : cases) {
      Map<String, Object> claims = new LinkedHashMap<>(base);
      claims.put((String) c[0], c[1]);
      InvalidArgumentException err =
          assertThrows(InvalidArgumentException.class, () -> RELAY.createToken(TokenRequest.fromClaims(claims)), c[0] + "=" + c[1]);
      assertEquals(c[2], err.param(), err.getMessage());
    }
    Map<String, Object> typo = new LinkedHashMap<>(base);
    typo.put("max_call", 3);
    assertEquals("max_call", assertThrows(InvalidArgumentException.class, () -> TokenRequest.fromClaims(typo)).param());
    Map<String, Object> badExp = new LinkedHashMap<>(base);
    badExp.put("exp", "tomorrow");
    assertEquals("exp", assertThrows(InvalidArgumentException.class, () -> TokenRequest.fromClaims(badExp)).param());
    Map<String, Object> noProvider = new LinkedHashMap<>(base);
    noProvider.remove("provider");
    assertEquals(
        "provider",
        assertThrows(InvalidArgumentException.class, () -> RELAY.createToken(TokenRequest.fromClaims(noProvider))).param());
  }

  @Test
  void anOversizedTokenIsRefused() {
    for (RelayAPI relay : List.of(RELAY, RelayAPI.fromJson(Fixtures.eccRaiPair("127.0.0.1", 8840)[0].toString()))) {
      InvalidArgumentException err =
          assertThrows(
              InvalidArgumentException.class,
              () -> relay.createToken(TokenRequest.builder().models(listOf(40, "m".repeat(256))).build()));
      assertEquals("token_too_large", err.code());
      assertTrue(err.getMessage().contains("8192"));
    }
  }
}
