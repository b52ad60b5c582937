package io.github.relayapi.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.relayapi.InvalidArgumentException;
import io.github.relayapi.RelayAPI;
import io.github.relayapi.RelayAPIException;
import io.github.relayapi.Token;
import io.github.relayapi.TokenRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * A backend endpoint without any framework (the JDK's HttpServer) that hands a browser a fresh
 * relay base URL. The real API key stays on the server; the browser only ever sees a short-lived
 * token limited to a few calls, one model, the chat endpoint and the page's origin.
 *
 * <p>Copy it into a backend that depends on {@code io.github.relayapi:relayapi} and run it with
 * {@code RELAYAPI_RAI=default.rai OPENAI_API_KEY=sk-… APP_ORIGIN=http://localhost:5173}; then
 *
 * <pre>
 *   curl http://localhost:3000/api/relay-url
 *   {"baseURL":"http://127.0.0.1:8840/t/eyJ…/v1","model":"gpt-4o-mini","expiresAt":"…"}
 * </pre>
 *
 * <p>In the browser: {@code new OpenAI({ baseURL, apiKey: 'unused', dangerouslyAllowBrowser: true })}.
 */
public final class TokenServer {
  /** What every token allows. */
  public record Options(String provider, String apiKey, String model, String origin) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenServer() {}

  /**
   * Starts the endpoint {@code GET /api/relay-url} on {@code address}.
   *
   * @param relay the SDK client (one for the whole process: it is thread-safe)
   * @param address where to listen (port 0: any free port)
   * @param options what the tokens allow
   * @return the running server ({@code server.stop(0)} ends it)
   * @throws IOException the address cannot be bound
   */
  public static HttpServer start(RelayAPI relay, InetSocketAddress address, Options options) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    server.createContext("/api/relay-url", exchange -> handle(relay, options, exchange));
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    return server;
  }

  private static void handle(RelayAPI relay, Options options, HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET")) {
        send(exchange, 405, Map.of("error", Map.of("message", "use GET", "code", "method_not_allowed")));
        return;
      }
      // In a real app: authenticate the user first, and use their id as sub.
      String user = "demo-user";
      try {
        Token token =
            relay.createToken(
                TokenRequest.builder()
                    .provider(options.provider())
                    .apiKey(options.apiKey())
                    .expiresIn(Duration.ofMinutes(5))
                    .maxCalls(5)
                    .rpm(10)
                    .maxTokens(300)
                    .models(options.model())
                    .paths("/v1/chat/completions")
                    .origins(options.origin())
                    .sub(user)
                    .build());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("baseURL", relay.baseUrl(token));
        body.put("model", options.model());
        body.put("expiresAt", token.expiresAt().toString());
        send(exchange, 200, body);
      } catch (RelayAPIException e) {
        int status = e instanceof InvalidArgumentException ? 400 : 500;
        send(exchange, status, Map.of("error", Map.of("message", e.getMessage(), "code", e.code())));
      }
    }
  }

  private static void send(HttpExchange exchange, int status, Object body) throws IOException {
    byte[] data = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, data.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(data);
    }
  }

  /**
   * {@code RELAYAPI_RAI} (the key file), {@code OPENAI_API_KEY}, and optionally {@code PORT}
   * (3000), {@code CHAT_MODEL} (gpt-4o-mini), {@code RELAYAPI_PROVIDER} (openai), {@code
   * APP_ORIGIN} (the page's origin, http://localhost:{PORT}).
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> env = System.getenv();
    int port = Integer.parseInt(env.getOrDefault("PORT", "3000"));
    RelayAPI relay = RelayAPI.fromEnv();
    Options options =
        new Options(
            env.getOrDefault("RELAYAPI_PROVIDER", "openai"),
            env.get("OPENAI_API_KEY"),
            env.getOrDefault("CHAT_MODEL", "gpt-4o-mini"),
            env.getOrDefault("APP_ORIGIN", "http://localhost:" + port));
    start(relay, new InetSocketAddress(port), options);
    System.out.println("http://localhost:" + port + "/api/relay-url (relay at " + relay.relayUrl() + ")");
  }
}
