package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin client against a local stand-in for the relay's admin API (the contract of
 * docs/openapi.yaml); the real relay is exercised by IntegrationTest.
 */
class AdminClientTest {
  static final String ADMIN_KEY = "admin-test-key";
  static final String JTI = "token-id-0123456789";
  static HttpServer server;
  static String base;
  static final List<String> seen = new CopyOnWriteArrayList<>();
  static final Map<String, Object[]> forced = new ConcurrentHashMap<>(); // jti -> {status, body, retryAfter}

  static final String USAGE =
      "{\"jti\":\"" + JTI + "\",\"sub\":\"u-1\",\"calls\":3,\"max_calls\":10,\"refunds\":1,\"prompt_tokens\":7,"
          + "\"completion_tokens\":5,\"tokens_used\":12,\"token_budget\":null,\"tokens_reserved\":0,"
          + "\"first_seen\":\"2026-01-01T00:00:00Z\",\"last_seen\":\"2026-01-01T00:01:00.5+01:00\","
          + "\"expires_at\":null,\"revoked\":false,\"last_error\":\"model_not_allowed\"}";
  static final String RECORD =
      "{\"time\":\"2026-01-01T00:00:00Z\",\"request_id\":\"r1\",\"jti\":\"" + JTI + "\",\"sub\":\"\",\"provider\":\"openai\","
          + "\"model\":\"gpt-4o\",\"path\":\"/v1/chat/completions\",\"status\":200,\"latency_ms\":12.5,\"ttfb_ms\":3,"
          + "\"prompt_tokens\":7,\"completion_tokens\":5,\"estimated\":false,\"usage_source\":\"provider\","
          + "\"bytes_in\":100,\"bytes_out\":200,\"error_code\":null}";

  static void send(HttpExchange ex, int status, String body, String retryAfter) throws IOException {
    byte[] data = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (retryAfter != null) {
      ex.getResponseHeaders().set("Retry-After", retryAfter);
    }
    ex.sendResponseHeaders(status, data.length == 0 ? -1 : data.length);
    if (data.length > 0) {
      ex.getResponseBody().write(data);
    }
    ex.close();
  }

  static String error(String code, String message) {
    return "{\"error\":{\"message\":\"" + message + "\",\"type\":\"relayapi_error\",\"code\":\"" + code + "\"}}";
  }

  @BeforeAll
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/base/admin/",
        ex -> {
          String path = ex.getRequestURI().getRawPath();
          String query = ex.getRequestURI().getRawQuery();
          seen.add(ex.getRequestMethod() + " " + path + (query == null ? "" : "?" + query) + " " + ex.getRequestHeaders().getFirst("Authorization"));
          if (!("Bearer " + ADMIN_KEY).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            send(ex, 401, error("unauthorized", "admin key missing or wrong"), null);
            return;
          }
          String rest = path.substring("/base/admin/".length());
          for (Map.Entry<String, Object[]> f : forced.entrySet()) {
            if (rest.contains(f.getKey())) {
              send(ex, (int) f.getValue()[0], (String) f.getValue()[1], (String) f.getValue()[2]);
              return;
            }
          }
          if (rest.equals("tokens/" + JTI) && ex.getRequestMethod().equals("GET")) {
            send(ex, 200, USAGE, null);
          } else if (rest.equals("tokens/" + JTI + "/revoke") && ex.getRequestMethod().equals("POST")) {
            send(ex, 200, "{\"jti\":\"" + JTI + "\",\"revoked\":true}", null);
          } else if (rest.equals("tokens")) {
            send(ex, 200, "{\"data\":[" + USAGE + "],\"next_cursor\":\"c2\"}", null);
          } else if (rest.equals("requests")) {
            send(ex, 200, "{\"data\":[" + RECORD + "," + RECORD + "],\"next_cursor\":null}", null);
          } else {
            send(ex, 404, error("not_found", "unknown token"), null);
          }
        });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort() + "/base";
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  @BeforeEach
  void reset() {
    seen.clear();
    forced.clear();
  }

  static AdminClient admin() {
    return AdminClient.builder().relayUrl(base + "/").adminKey(ADMIN_KEY).build();
  }

  @Test
  void usageRevokeAndListings() {
    AdminClient admin = admin();
    TokenUsage usage = admin.usage(JTI);
    assertEquals(JTI, usage.jti());
    assertEquals("u-1", usage.sub());
    assertEquals(3, usage.calls());
    assertEquals(10L, usage.maxCalls());
    assertNull(usage.tokenBudget());
    assertEquals(12, usage.tokensUsed());
    assertEquals(Instant.parse("2026-01-01T00:00:00Z"), usage.firstSeen());
    assertEquals(Instant.parse("2025-12-31T23:01:00.5Z"), usage.lastSeen());
    assertNull(usage.expiresAt());
    assertEquals("model_not_allowed", usage.lastError());

    assertEquals(new Revocation(JTI, true), admin.revoke(JTI));

    Page<TokenUsage> tokens = admin.tokens("user 1/ü");
    assertEquals(1, tokens.data().size());
    assertEquals("c2", tokens.nextCursor());
    assertTrue(tokens.hasMore());
    admin.tokens(TokenFilter.all().withLimit(5).withCursor("c2"));

    Page<RequestRecord> requests = admin.requests(RequestFilter.byToken(JTI).withLimit(2));
    assertEquals(2, requests.data().size());
    assertFalse(requests.hasMore());
    RequestRecord r = requests.data().get(0);
    assertEquals(200, r.status());
    assertEquals(12.5, r.latencyMs());
    assertEquals("provider", r.usageSource());
    assertNull(r.errorCode());
    admin.requests();

    assertEquals(
        List.of(
            "GET /base/admin/tokens/" + JTI + " Bearer " + ADMIN_KEY,
            "POST /base/admin/tokens/" + JTI + "/revoke Bearer " + ADMIN_KEY,
            "GET /base/admin/tokens?sub=user%201%2F%C3%BC Bearer " + ADMIN_KEY,
            "GET /base/admin/tokens?limit=5&cursor=c2 Bearer " + ADMIN_KEY,
            "GET /base/admin/requests?jti=" + JTI + "&limit=2 Bearer " + ADMIN_KEY,
            "GET /base/admin/requests Bearer " + ADMIN_KEY),
        seen);
  }

  @Test
  void aTokenWorksAsWellAsItsId() {
    RelayAPI relay = RelayAPI.builder().raiJson(Fixtures.aesRai().toString()).relayUrl(base).adminKey(ADMIN_KEY).build();
    Token token = relay.createToken(TokenRequest.builder().jti(JTI).build());
    assertEquals(3, relay.admin().usage(token).calls());
    assertTrue(relay.admin().revoke(token).revoked());
    assertEquals(base, relay.admin().relayUrl());
  }

  @Test
  void aWrongKeyIsAnAuthenticationErrorWithoutTheKey() {
    AdminClient admin = AdminClient.builder().relayUrl(base).adminKey("wrong-key-value").build();
    AuthenticationException err = assertThrows(AuthenticationException.class, () -> admin.usage(JTI));
    assertEquals(401, err.status());
    assertEquals("unauthorized", err.code());
    assertEquals("admin key missing or wrong", err.getMessage());
    assertEquals("relayapi_error", err.type());
    assertFalse(err.toString().contains("wrong-key-value"));
    assertFalse(admin.toString().contains("wrong-key-value"));
  }

  @Test
  void anUnknownTokenIsNotFound() {
    NotFoundException err = assertThrows(NotFoundException.class, () -> admin().usage("unknown-token-id-000"));
    assertEquals(404, err.status());
    assertEquals("not_found", err.code());
  }

  @Test
  void statusesMapToExceptionClasses() {
    Object[][] cases = {
      {400, BadRequestException.class},
      {403, PermissionDeniedException.class},
      {429, RateLimitException.class},
      {500, ServerException.class},
      {503, ServerException.class},
      {418, RelayHttpException.class},
    };
    for (Object[] c : cases) {
      forced.put("forced-token-id-0001", new Object[] {c[0], error("x_code", "nope"), (int) c[0] == 429 ? "7" : null});
      RelayHttpException err = assertThrows(RelayHttpException.class, () -> admin().usage("forced-token-id-0001"));
      assertEquals(c[1], err.getClass());
      assertEquals((int) c[0], err.status());
      assertEquals("x_code", err.code());
      assertEquals("nope", err.getMessage());
      if (err instanceof RateLimitException) {
        assertEquals(7, ((RateLimitException) err).retryAfterSeconds().getAsLong());
      }
    }
  }

  @Test
  void aBodyThatIsNotJson() {
    forced.put("forced-token-id-0002", new Object[] {502, "<html>bad gateway</html>", null});
    ServerException err = assertThrows(ServerException.class, () -> admin().usage("forced-token-id-0002"));
    assertEquals("http_error", err.code());
    assertEquals("<html>bad gateway</html>", err.body());
    forced.put("forced-token-id-0003", new Object[] {200, "not json", null});
    RelayAPIException e2 = assertThrows(RelayAPIException.class, () -> admin().usage("forced-token-id-0003"));
    assertEquals("http_error", e2.code());
  }

  @Test
  void noAdminKeyFailsBeforeSending() {
    AdminClient admin = new AdminClient(base, null, null, java.time.Duration.ofSeconds(5), name -> null);
    InvalidArgumentException err = assertThrows(InvalidArgumentException.class, () -> admin.usage(JTI));
    assertEquals("missing_admin_key", err.code());
    assertEquals("adminKey", err.param());
    assertTrue(seen.isEmpty());
    AdminClient fromEnv =
        new AdminClient(base, null, null, java.time.Duration.ofSeconds(5), name -> name.equals("RELAYAPI_ADMIN_KEY") ? ADMIN_KEY : null);
    assertEquals(3, fromEnv.usage(JTI).calls());
  }

  @Test
  void badArgumentsFailBeforeSending() {
    assertEquals("jti", assertThrows(InvalidArgumentException.class, () -> admin().usage("short")).param());
    assertEquals("jti", assertThrows(InvalidArgumentException.class, () -> admin().revoke("../../x/abcdefghijklmnop")).param());
    assertEquals("limit", assertThrows(InvalidArgumentException.class, () -> admin().tokens(TokenFilter.all().withLimit(0))).param());
    assertEquals("relayUrl", assertThrows(InvalidArgumentException.class, () -> AdminClient.builder().build()).param());
    assertTrue(seen.isEmpty());
  }

  @Test
  void anUnreachableRelayIsAConnectionError() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    AdminClient admin = AdminClient.builder().relayUrl("http://127.0.0.1:" + port).adminKey(ADMIN_KEY).build();
    RelayConnectionException err = assertThrows(RelayConnectionException.class, () -> admin.usage(JTI));
    assertEquals("network_error", err.code());
    assertInstanceOf(IOException.class, err.getCause());
  }
}
