package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.PermissionDeniedException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.sun.net.httpserver.HttpServer;
import io.github.relayapi.examples.TokenServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The README's Java blocks compile as written (each is a test source, checked equal to the block)
 * and run against the real relay; the example backend endpoint serves a working base URL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocsAndExamplesTest {
  static final String ADMIN_KEY = "docs-admin-key";
  static final Pattern BLOCK = Pattern.compile("<!-- doctest: java -->\\n```java\\n(.*?)```", Pattern.DOTALL);
  static final Pattern CLASS = Pattern.compile("public class (\\w+)");

  Relays.Mock mock;
  Relays.Relay server;
  Path dir;
  String raiJson;

  @BeforeAll
  void start() throws Exception {
    dir = Relays.buildDir().resolve("it").resolve("docs-" + System.nanoTime());
    mock = Relays.Mock.start(dir.resolve("mock"));
    int port = Relays.freePort();
    // A 1.x-form key file ("/" = no base path): the same file serves every block below.
    var rai = Fixtures.v1Rai(port);
    ((com.fasterxml.jackson.databind.node.ObjectNode) rai.get("server")).put("base_path", "/");
    raiJson = rai.toString();
    server = Relays.Relay.start(dir.resolve("relay"), Relays.config(mock.url, ADMIN_KEY, "openai"), raiJson, port, "");
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

  static List<String> blocks(Path readme) throws Exception {
    List<String> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(Files.readString(readme));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void everyReadmeBlockIsATestSourceVerbatim() throws Exception {
    List<String> en = blocks(Fixtures.sdk().resolve("README.md"));
    List<String> cn = blocks(Fixtures.sdk().resolve("README_CN.md"));
    assertEquals(4, en.size());
    assertEquals(en, cn, "README_CN.md has the same code blocks as README.md");
    for (String block : en) {
      Matcher m = CLASS.matcher(block);
      assertTrue(m.find(), block);
      Path source = Fixtures.sdk().resolve("src/test/java").resolve(m.group(1) + ".java");
      assertEquals(block, Files.readString(source), source + " must equal the README block (copy it over)");
    }
  }

  record Run(int exit, String stdout, String stderr) {}

  Run java(String mainClass, Path cwd, Map<String, String> env, String... args) throws Exception {
    Files.createDirectories(cwd);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("RELAYAPI_") || k.equals("OPENAI_API_KEY"));
    pb.environment().putAll(env);
    Path out = cwd.resolve(mainClass + ".out");
    Path err = cwd.resolve(mainClass + ".err");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(mainClass + " did not finish");
    }
    Run run = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    assertEquals(0, run.exit(), mainClass + " failed:\n" + run.stderr() + "\n" + server.output());
    return run;
  }

  @Test
  void quickStartMintsAndPrintsTheBaseUrl() throws Exception {
    Path cwd = dir.resolve("quickstart");
    Files.createDirectories(cwd);
    Files.writeString(cwd.resolve("default.rai"), raiJson);
    Run run = java("QuickStart", cwd, Map.of("OPENAI_API_KEY", "sk-doc-quick"));
    String url = run.stdout().strip();
    String prefix = server.url + "/t/";
    assertTrue(url.startsWith(prefix) && url.endsWith("/v1"), run.stdout());
    String token = url.substring(prefix.length(), url.length() - "/v1".length());
    Map<String, Object> claims = TestDecoders.open(token, raiJson);
    assertEquals("sk-doc-quick", claims.get("api_key"));
    assertEquals(List.of("gpt-4o-mini"), claims.get("models"));
    assertEquals(20, ((Number) claims.get("max_calls")).intValue());
    assertEquals(600, ((Number) claims.get("exp")).longValue() - ((Number) claims.get("iat")).longValue());
  }

  @Test
  void theOpenAiBlockChatsAndStreamsAndTheAdminBlockReportsIt() throws Exception {
    Map<String, String> env = Map.of("RELAYAPI_RAI", raiJson, "OPENAI_API_KEY", "sk-doc-chat", "RELAYAPI_ADMIN_KEY", ADMIN_KEY);
    Run chat = java("ChatThroughRelay", dir.resolve("chat"), env);
    String[] lines = chat.stdout().strip().split("\n");
    assertEquals(2, lines.length, chat.stdout());
    assertTrue(lines[0].startsWith("Hello from mock"), chat.stdout());
    assertTrue(lines[1].startsWith("Hello from mock"), chat.stdout());
    List<JsonNode> seen = mock.requests("sk-doc-chat");
    assertEquals(2, seen.size());
    assertTrue(seen.get(1).path("stream").asBoolean());

    // The request log is written just after each response.
    AdminClient admin = AdminClient.builder().relayUrl(server.url).adminKey(ADMIN_KEY).build();
    String jti = admin.tokens("user-42").data().get(0).jti();
    for (int i = 0; i < 50 && admin.requests(RequestFilter.byToken(jti)).data().size() < 2; i++) {
      Relays.sleep(100);
    }
    Run report = java("UsageReport", dir.resolve("report"), env, "user-42");
    assertTrue(report.stdout().startsWith(jti + ": 2 calls, "), report.stdout());
    assertEquals(2, report.stdout().split("/v1/chat/completions 200").length - 1, report.stdout());
  }

  @Test
  void theOneDotXBlockRunsAgainstTheRelay() throws Exception {
    Path cwd = dir.resolve("v1");
    Files.createDirectories(cwd);
    Files.writeString(cwd.resolve("config.rai"), raiJson);
    Run run = java("OneDotXBackend", cwd, Map.of("OPENAI_API_KEY", "sk-doc-v1"));
    assertTrue(run.stdout().startsWith("Base URL: " + server.url + "/t/"), run.stdout());
    assertTrue(run.stdout().contains("Hello from mock"), run.stdout());
    assertEquals(1, mock.requests("sk-doc-v1").size());
  }

  @Test
  void theExampleEndpointHandsOutAWorkingBaseUrl() throws Exception {
    RelayAPI relay = RelayAPI.builder().raiJson(raiJson).warnings(w -> {}).build();
    String origin = "http://localhost:3000";
    HttpServer endpoint =
        TokenServer.start(
            relay,
            new InetSocketAddress("127.0.0.1", 0),
            new TokenServer.Options("openai", "sk-doc-example", "gpt-4o-mini", origin));
    HttpClient http = HttpClient.newHttpClient();
    String url = "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/api/relay-url";
    try {
      HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, res.statusCode(), res.body());
      JsonNode body = Fixtures.readJsonBytes(res.body().getBytes());
      String baseUrl = body.path("baseURL").asText();
      assertTrue(baseUrl.startsWith(server.url + "/t/") && baseUrl.endsWith("/v1"), baseUrl);
      assertEquals("gpt-4o-mini", body.path("model").asText());
      Instant expiresAt = Instant.parse(body.path("expiresAt").asText());
      assertTrue(expiresAt.isAfter(Instant.now().plusSeconds(240)) && expiresAt.isBefore(Instant.now().plusSeconds(360)));

      // What the browser does: the official client with the page's Origin.
      OpenAIClient browser = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("unused").maxRetries(0).putHeader("Origin", origin).build();
      OpenAIClient elsewhere = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("unused").maxRetries(0).build();
      try {
        var reply = browser.chat().completions().create(chat("gpt-4o-mini"));
        assertTrue(reply.choices().get(0).message().content().orElse("").startsWith("Hello from mock"));
        PermissionDeniedException model =
            assertThrows(PermissionDeniedException.class, () -> browser.chat().completions().create(chat("gpt-4o")));
        assertEquals("model_not_allowed", model.code().orElse(null));
        PermissionDeniedException noOrigin =
            assertThrows(PermissionDeniedException.class, () -> elsewhere.chat().completions().create(chat("gpt-4o-mini")));
        assertEquals("origin_not_allowed", noOrigin.code().orElse(null));
      } finally {
        browser.close();
        elsewhere.close();
      }
      assertFalse(mock.requestsJson("sk-doc-example").contains(baseUrl));

      HttpResponse<String> post =
          http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
    } finally {
      endpoint.stop(0);
      ((java.util.concurrent.ExecutorService) endpoint.getExecutor()).shutdownNow();
    }
  }

  static ChatCompletionCreateParams chat(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("hi").build();
  }
}
