package com.github.relayapi.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.github.relayapi.AuthenticationException;
import io.github.relayapi.Fixtures;
import io.github.relayapi.RateLimitException;
import io.github.relayapi.Relays;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * 1.x backend code against the real relay: a relay serving under /relayapi with a key file
 * exactly as RelayAPI 1.x wrote it (scheme inside host, base_path "/relayapi/", aes_iv_seed);
 * providers openai and dashscope point at the Go mock.
 */
@SuppressWarnings("deprecation")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LegacyIntegrationTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final List<Map<String, String>> MESSAGES =
      List.of(
          Map.of("role", "system", "content", "You are a helpful assistant."),
          Map.of("role", "user", "content", "What is the capital of France?"));

  Relays.Mock mock;
  Relays.Relay server;
  Path dir;
  String raiJson;

  @BeforeAll
  void start() {
    dir = Relays.buildDir().resolve("it").resolve("legacy-" + System.nanoTime());
    mock = Relays.Mock.start(dir.resolve("mock"));
    int port = Relays.freePort();
    raiJson = Fixtures.v1Rai(port).toString();
    ObjectNode config = Relays.config(mock.url, null, "openai", "dashscope");
    config.put("base_path", "/relayapi");
    server = Relays.Relay.start(dir.resolve("relay"), config, raiJson, port, "/relayapi");
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

  Config config() throws IOException {
    return MAPPER.readValue(raiJson, Config.class);
  }

  @SuppressWarnings("unchecked")
  static String answer(Map<String, Object> response) {
    Map<String, Object> choice = ((List<Map<String, Object>>) response.get("choices")).get(0);
    return (String) ((Map<String, Object>) choice.get("message")).get("content");
  }

  @Test
  void theOneDotXChatExampleProgramRunsUnchanged() throws Exception {
    Path work = dir.resolve("app-" + System.nanoTime());
    Files.createDirectories(work);
    Files.writeString(work.resolve("config.rai"), raiJson);
    String apiKey = "sk-v1-program";
    Files.writeString(work.resolve(".env"), "RELAY_API_KEY=" + apiKey + "\n");
    Path out = work.resolve("stdout.txt");
    Path err = work.resolve("stderr.txt");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "legacy1x.ChatExample")
            .directory(work.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the program did not finish");
    String stdout = Files.readString(out);
    String stderr = Files.readString(err);
    assertEquals(0, p.exitValue(), stderr);
    assertFalse(stderr.contains("Error:"), stderr + "\n" + server.output());
    assertTrue(stdout.contains("Base URL: " + server.url + "/t/"), stdout);
    assertTrue(stdout.contains("Chat response: ") && stdout.contains("Hello from mock"), stdout);
    assertTrue(stdout.contains("Image response: "), stdout);
    assertTrue(stdout.contains("Embedding response: "), stdout);
    assertTrue(stdout.contains("Health status: {\"status\":\"ok\""), stdout);
    List<JsonNode> seen = mock.requests(apiKey);
    assertEquals(
        List.of("/v1/chat/completions", "/v1/images/generations", "/v1/embeddings"),
        seen.stream().map(r -> r.path("path").asText()).toList());
    assertEquals("qwen-vl-max", seen.get(0).path("model").asText());
  }

  @Test
  void theIssueFlowAndTheOneDotXReadmeBaseUrlWithTheOfficialClient() throws Exception {
    // As 1.x code does it: Jackson into Config, client, token, chat.
    Config config = MAPPER.readValue(raiJson, Config.class);
    RelayAPIClient client = new RelayAPIClient(config);
    String key = "sk-v1-issue-flow";
    String token =
        client.createToken(new TokenOptions(key).setMaxCalls(100).setExpireSeconds(3600).setProvider("openai"));
    Map<String, Object> response =
        client.chat(new RelayAPIClient.ChatRequest(token).setMessages(MESSAGES).setModel("gpt-4o-mini"));
    assertTrue(answer(response).startsWith("Hello from mock: What is the capital"), String.valueOf(response));

    // The 1.x README: generateUrl(token, "") is the base URL to give an OpenAI client.
    String baseUrl = client.generateUrl(token, "");
    assertEquals(server.url + "/t/" + token + "/v1", baseUrl);
    OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("not-needed").maxRetries(0).build();
    try {
      ChatCompletion reply =
          openai.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("hi").build());
      assertTrue(reply.choices().get(0).message().content().orElse("").startsWith("Hello from mock"));
    } finally {
      openai.close();
    }
    assertEquals("ok", client.healthCheck().get("status"));

    List<JsonNode> seen = mock.requests(key);
    assertEquals(2, seen.size());
    assertFalse(Fixtures.toJson(seen).contains(token), "the provider never sees the token");
  }

  @Test
  void extInfoRepMReplacesEveryModel() throws Exception {
    RelayAPIClient client = new RelayAPIClient(config());
    String key = "sk-v1-rep-m";
    String token =
        client.createToken(new TokenOptions(key).setProvider("openai").setExtInfo("{\"rep_m\":\"gpt-4o-mini\",\"user\":\"u-42\"}"));
    client.chat(new RelayAPIClient.ChatRequest(token).setMessages(MESSAGES).setModel("gpt-3.5-turbo"));
    client.createEmbedding(new RelayAPIClient.EmbeddingRequest(token).setInput("x"));
    List<JsonNode> seen = mock.requests(key);
    assertEquals(List.of("gpt-4o-mini", "gpt-4o-mini"), seen.stream().map(r -> r.path("model").asText()).toList());
  }

  @Test
  void maxCallsEndsInTheRelays429() throws Exception {
    RelayAPIClient client = new RelayAPIClient(config());
    String token = client.createToken(new TokenOptions("sk-v1-max").setMaxCalls(2).setProvider("openai"));
    RelayAPIClient.ChatRequest chat = new RelayAPIClient.ChatRequest(token).setMessages(MESSAGES);
    client.chat(chat);
    client.chat(chat);
    IOException err = assertThrows(IOException.class, () -> client.chat(chat));
    assertTrue(err.getMessage().startsWith("Chat request failed: 429 call_limit_exceeded"), err.getMessage());
    assertFalse(err.getMessage().contains(token));
    RateLimitException cause = assertInstanceOf(RateLimitException.class, err.getCause());
    assertEquals("call_limit_exceeded", cause.code());
    assertEquals(429, cause.status());
  }

  @Test
  void aTokenFromAnotherKeyIsRefused() throws Exception {
    RelayAPIClient stranger = new RelayAPIClient(MAPPER.readValue(Fixtures.v1Rai(server.port).toString(), Config.class));
    String token = stranger.createToken(new TokenOptions("sk-stranger").setProvider("openai"));
    IOException err =
        assertThrows(IOException.class, () -> new RelayAPIClient(config()).chat(new RelayAPIClient.ChatRequest(token).setMessages(MESSAGES)));
    AuthenticationException cause = assertInstanceOf(AuthenticationException.class, err.getCause());
    assertEquals("invalid_token", cause.code());
  }

  @Test
  void anUnreachableRelayIsAnIOException() throws Exception {
    Config config = MAPPER.readValue(Fixtures.v1Rai(Relays.freePort()).toString(), Config.class);
    RelayAPIClient client = new RelayAPIClient(config);
    IOException err = assertThrows(IOException.class, client::healthCheck);
    assertTrue(err.getMessage().startsWith("Health check failed"), err.getMessage());
  }
}
