package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * End to end: the real {@code relayapi serve} + the Go mock provider + tokens from this SDK + the
 * official {@code com.openai:openai-java} client, for both key methods.
 */
class IntegrationTest {
  static final String ADMIN_KEY = "integration-admin-key";

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Aes extends Suite {
    Aes() {
      super("aes");
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Ecc extends Suite {
    Ecc() {
      super("ecc");
    }
  }

  abstract static class Suite {
    final String method;
    Relays.Mock mock;
    Relays.Relay server;
    RelayAPI relay;
    String backendRai;

    Suite(String method) {
      this.method = method;
    }

    @BeforeAll
    void start() throws Exception {
      Path dir = Relays.buildDir().resolve("it").resolve("integration-" + method + "-" + System.nanoTime());
      mock = Relays.Mock.start(dir.resolve("mock"));
      int port = Relays.freePort();
      String relayRai;
      if (method.equals("aes")) {
        relayRai = backendRai = Fixtures.aesRai("127.0.0.1", port, "").toString();
      } else {
        ObjectNode[] pair = Fixtures.eccRaiPair("127.0.0.1", port);
        backendRai = pair[0].toString();
        relayRai = pair[1].toString();
      }
      server = Relays.Relay.start(dir.resolve("relay"), Relays.config(mock.url, ADMIN_KEY, "openai"), relayRai, port, "");
      relay = RelayAPI.builder().raiJson(backendRai).adminKey(ADMIN_KEY).build();
      assertEquals(server.url, relay.relayUrl(), "the .rai server section names the relay");
    }

    @AfterAll
    void stop() {
      if (server != null) {
        server.close();
      }
      if (mock != null) {
        mock.close();
      }
    }

    OpenAIClient openai(Token token) {
      return OpenAIOkHttpClient.builder()
          .baseUrl(relay.baseUrl(token))
          .apiKey("unused") // the token travels in the base URL
          .maxRetries(0)
          .timeout(Duration.ofSeconds(20))
          .build();
    }

    static ChatCompletionCreateParams chat(String model, String text) {
      return ChatCompletionCreateParams.builder().model(model).addUserMessage(text).build();
    }

    @Test
    void theOfficialOpenAiClientChatsAndStreamsThroughTheRelay() {
      String upstreamKey = "sk-mock-" + method + "-java";
      Token token = relay.createToken(TokenRequest.builder().provider("openai").apiKey(upstreamKey).maxCalls(5).build());
      OpenAIClient client = openai(token);
      try {
        ChatCompletion reply = client.chat().completions().create(chat("gpt-4o-mini", "Say hello"));
        String content = reply.choices().get(0).message().content().orElse("");
        assertTrue(content.startsWith("Hello from mock"), content + "\n" + server.output());

        ChatCompletionCreateParams params =
            chat("gpt-4o-mini", "Say hello").toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();
        StringBuilder text = new StringBuilder();
        AtomicInteger chunks = new AtomicInteger();
        AtomicReference<Long> total = new AtomicReference<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
          stream.stream()
              .forEach(
                  chunk -> {
                    chunks.incrementAndGet();
                    chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
                    chunk.usage().ifPresent(u -> total.set(u.totalTokens()));
                  });
        }
        assertTrue(chunks.get() > 1, server.output());
        assertTrue(text.length() > 0, server.output());
        assertNotNull(total.get());
        assertTrue(total.get() > 0);

        List<JsonNode> seen = mock.requests(upstreamKey);
        assertEquals(2, seen.size(), mock.requestsJson(upstreamKey));
        assertEquals("/v1/chat/completions", seen.get(1).path("path").asText());
        assertFalse(seen.get(0).path("stream").asBoolean());
        assertTrue(seen.get(1).path("stream").asBoolean());
        assertFalse(mock.requestsJson(upstreamKey).contains(token.value()), "the provider never sees the token");
      } finally {
        client.close();
      }
    }

    @Test
    void embeddingsThroughTheRelay() {
      Token token = relay.createToken(TokenRequest.builder().apiKey("sk-mock-emb").build());
      OpenAIClient client = openai(token);
      try {
        var emb =
            client.embeddings()
                .create(EmbeddingCreateParams.builder().model("text-embedding-3-small").input("hello").build());
        assertFalse(emb.data().get(0).embedding().isEmpty());
      } finally {
        client.close();
      }
    }

    @Test
    void theRelayEnforcesTheClaims() {
      Token token =
          relay.createToken(TokenRequest.builder().apiKey("sk-mock-limits").maxCalls(1).models("gpt-4o*").build());
      OpenAIClient client = openai(token);
      try {
        PermissionDeniedException denied =
            assertThrows(PermissionDeniedException.class, () -> client.chat().completions().create(chat("claude-3", "hi")));
        assertEquals("model_not_allowed", denied.code().orElse(null));
        client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        RateLimitException limited =
            assertThrows(RateLimitException.class, () -> client.chat().completions().create(chat("gpt-4o-mini", "hi")));
        assertEquals("call_limit_exceeded", limited.code().orElse(null));
      } finally {
        client.close();
      }
    }

    @Test
    void theRelayRefusesTokensOfAnotherKey() {
      RelayAPI stranger = RelayAPI.builder().raiJson(Fixtures.aesRai().toString()).relayUrl(relay.relayUrl()).build();
      OpenAIClient client = openai(stranger.createToken(TokenRequest.builder().build()));
      try {
        UnauthorizedException err =
            assertThrows(UnauthorizedException.class, () -> client.chat().completions().create(chat("m", "hi")));
        assertEquals("invalid_token", err.code().orElse(null));
      } finally {
        client.close();
      }
    }

    @Test
    void originTokensNeedTheOrigin() {
      Token token =
          relay.createToken(TokenRequest.builder().apiKey("sk-mock-origin").origins("https://app.example.com").build());
      OpenAIClient plain = openai(token);
      OpenAIClient browserLike =
          OpenAIOkHttpClient.builder()
              .baseUrl(relay.baseUrl(token))
              .apiKey("unused")
              .maxRetries(0)
              .putHeader("Origin", "https://app.example.com")
              .build();
      try {
        PermissionDeniedException err =
            assertThrows(PermissionDeniedException.class, () -> plain.chat().completions().create(chat("m", "hi")));
        assertEquals("origin_not_allowed", err.code().orElse(null));
        assertTrue(browserLike.chat().completions().create(chat("m", "hi")).choices().size() > 0);
      } finally {
        plain.close();
        browserLike.close();
      }
    }

    @Test
    void adminUsageListingsAndRevocationOnTheRealRelay() {
      String sub = "user-" + method + "-" + System.nanoTime();
      Token token = relay.createToken(TokenRequest.builder().apiKey("sk-mock-admin").sub(sub).maxCalls(10).build());
      OpenAIClient client = openai(token);
      try {
        client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        AdminClient admin = relay.admin();
        TokenUsage usage = admin.usage(token);
        assertEquals(token.id(), usage.jti());
        assertEquals(sub, usage.sub());
        assertEquals(1, usage.calls());
        assertEquals(10L, usage.maxCalls());
        assertFalse(usage.revoked());
        assertNotNull(usage.firstSeen());
        assertEquals(token.expiresAt(), usage.expiresAt());

        Page<TokenUsage> mine = admin.tokens(sub);
        assertEquals(List.of(token.id()), mine.data().stream().map(TokenUsage::jti).toList());
        assertFalse(mine.hasMore());

        // The request log is written just after the response: wait for its line.
        Page<RequestRecord> log = admin.requests(RequestFilter.byToken(token.id()));
        for (int i = 0; i < 50 && log.data().isEmpty(); i++) {
          Relays.sleep(100);
          log = admin.requests(RequestFilter.byToken(token.id()));
        }
        assertEquals(1, log.data().size());
        RequestRecord r = log.data().get(0);
        assertEquals("/v1/chat/completions", r.path());
        assertEquals(200, r.status());
        assertEquals(sub, r.sub());
        assertEquals("openai", r.provider());
        assertNotNull(r.time());
        assertTrue(admin.requests(RequestFilter.all().withLimit(1)).data().size() == 1);

        Revocation revoked = admin.revoke(token.id());
        assertEquals(new Revocation(token.id(), true), revoked);
        UnauthorizedException err =
            assertThrows(UnauthorizedException.class, () -> client.chat().completions().create(chat("gpt-4o-mini", "hi")));
        assertEquals("token_revoked", err.code().orElse(null));
        assertTrue(admin.usage(token.id()).revoked());
      } finally {
        client.close();
      }
    }

    @Test
    void tokenListingsPageWithACursor() {
      String sub = "pager-" + method + "-" + System.nanoTime();
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Token t = relay.createToken(TokenRequest.builder().apiKey("sk-mock-pager").sub(sub).build());
        OpenAIClient client = openai(t);
        try {
          client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        } finally {
          client.close();
        }
        ids.add(t.id());
      }
      java.util.Collections.sort(ids);
      Page<TokenUsage> first = relay.admin().tokens(TokenFilter.bySub(sub).withLimit(2));
      assertTrue(first.hasMore());
      Page<TokenUsage> second = relay.admin().tokens(TokenFilter.bySub(sub).withLimit(2).withCursor(first.nextCursor()));
      assertFalse(second.hasMore());
      List<String> listed = new java.util.ArrayList<>();
      first.data().forEach(u -> listed.add(u.jti()));
      second.data().forEach(u -> listed.add(u.jti()));
      assertEquals(ids, listed);
    }

    @Test
    void adminErrorsAreTyped() {
      AdminClient wrong = AdminClient.builder().relayUrl(relay.relayUrl()).adminKey("not-the-key").build();
      AuthenticationException auth = assertThrows(AuthenticationException.class, () -> wrong.usage("unknown-token-id-0000"));
      assertEquals("unauthorized", auth.code());
      assertEquals(401, auth.status());
      NotFoundException missing = assertThrows(NotFoundException.class, () -> relay.admin().usage("unknown-token-id-0000"));
      assertEquals("not_found", missing.code());
      BadRequestException bad =
          assertThrows(BadRequestException.class, () -> relay.admin().tokens(TokenFilter.all().withCursor("!!!")));
      assertEquals("bad_request", bad.code());
    }
  }
}
