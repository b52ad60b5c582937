package com.github.relayapi.sdk;

import io.github.relayapi.RelayAPI;
import io.github.relayapi.RelayAPIException;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RelayAPI 1.x Java client, kept so 1.x backend code compiles and runs against this relay
 * with only the dependency upgraded. It mints this relay's tokens (JWE, docs/token-format.md) and
 * uses path-token URLs {@code {relay}/t/{token}/v1/…} instead of {@code ?token=…&rai_hash=…}.
 *
 * <p>Differences from 1.x: HTTP errors are {@link IOException}s whose cause is a {@link
 * io.github.relayapi.RelayHttpException} carrying the relay's error {@code code}; a key file that
 * cannot be used (including the example key 1.x published) is an {@link IllegalArgumentException}
 * saying why.
 *
 * @deprecated Use {@link RelayAPI}: {@code RelayAPI.fromFile(path)}, {@code
 *     relay.createToken(TokenRequest…)}, {@code relay.baseUrl(token)} and the official {@code
 *     com.openai:openai-java} client with {@code baseUrl} set to it.
 */
@Deprecated
public class RelayAPIClient {
  private final TokenGenerator tokenGenerator;
  private final RelayAPI relay;
  private final HttpClient httpClient;

  /**
   * @param config the key file (1.x files load unchanged)
   * @throws IllegalArgumentException the key file cannot be used (the message says why)
   * @deprecated Use {@link RelayAPI#fromFile(java.nio.file.Path)}.
   */
  @Deprecated
  public RelayAPIClient(Config config) {
    this.tokenGenerator = new TokenGenerator(config);
    this.relay = tokenGenerator.relay();
    this.httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
  }

  /**
   * Mints a token for this relay.
   *
   * @param options the token options
   * @return the token
   * @throws IllegalArgumentException an option is invalid (the message names it)
   * @deprecated Use {@link RelayAPI#createToken(io.github.relayapi.TokenRequest)}{@code .value()}.
   */
  @Deprecated
  public String createToken(TokenOptions options) {
    try {
      return relay.createToken(Legacy.request(options)).value();
    } catch (RelayAPIException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * The URL for a token: {@code {relay}/t/{token}/v1}, plus {@code endpoint} when given ({@code
   * "chat/completions"} → {@code …/t/{token}/v1/chat/completions}; an endpoint starting with
   * {@code v1/} goes after {@code /t/{token}}).
   *
   * @param token the token from {@link #createToken(TokenOptions)}
   * @param endpoint an API path, or {@code ""} for the base URL an OpenAI SDK takes
   * @return the URL
   * @deprecated Use {@link RelayAPI#baseUrl(String)}.
   */
  @Deprecated
  public String generateUrl(String token, String endpoint) {
    return Legacy.url(relay, token, endpoint);
  }

  /**
   * {@code POST {relay}/t/{token}/v1/chat/completions}: the parsed JSON answer.
   *
   * @param request messages, model, temperature, max tokens and the token
   * @return the answer
   * @throws IOException the relay or the provider answered an error (the cause carries its code),
   *     or the relay cannot be reached
   * @deprecated Use the official {@code com.openai:openai-java} client with {@code
   *     baseUrl(relay.baseUrl(token))}.
   */
  @Deprecated
  public Map<String, Object> chat(ChatRequest request) throws IOException {
    String url = Legacy.url(relay, request.getToken(), "chat/completions");
    return Legacy.send(httpClient, url, request.toRequestBody(), "Chat request");
  }

  /**
   * {@code POST {relay}/t/{token}/v1/images/generations}: the parsed JSON answer.
   *
   * @param request prompt, model, size, quality, n and the token
   * @return the answer
   * @throws IOException as for {@link #chat(ChatRequest)}
   * @deprecated Use the official {@code com.openai:openai-java} client.
   */
  @Deprecated
  public Map<String, Object> generateImage(ImageRequest request) throws IOException {
    String url = Legacy.url(relay, request.getToken(), "images/generations");
    return Legacy.send(httpClient, url, request.toRequestBody(), "Image generation");
  }

  /**
   * {@code POST {relay}/t/{token}/v1/embeddings}: the parsed JSON answer.
   *
   * @param request input, model and the token
   * @return the answer
   * @throws IOException as for {@link #chat(ChatRequest)}
   * @deprecated Use the official {@code com.openai:openai-java} client.
   */
  @Deprecated
  public Map<String, Object> createEmbedding(EmbeddingRequest request) throws IOException {
    String url = Legacy.url(relay, request.getToken(), "embeddings");
    return Legacy.send(httpClient, url, request.toRequestBody(), "Embedding creation");
  }

  /**
   * {@code GET {relay}/health} (under the relay's base path): the relay's status JSON.
   *
   * @return the answer ({@code {"status": "ok", …}})
   * @throws IOException the relay answered an error or cannot be reached
   * @deprecated {@code GET relay.relayUrl() + "/health"} yourself.
   */
  @Deprecated
  public Map<String, Object> healthCheck() throws IOException {
    return Legacy.send(httpClient, tokenGenerator.getServerUrl("health"), null, "Health check");
  }

  private static Map<String, Object> body(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i + 1] != null) {
        map.put((String) pairs[i], pairs[i + 1]);
      }
    }
    return map;
  }

  /**
   * A chat request (1.x API).
   *
   * @deprecated Use the official {@code com.openai:openai-java} client's {@code
   *     ChatCompletionCreateParams}.
   */
  @Deprecated
  public static class ChatRequest {
    private List<Map<String, String>> messages;
    private String model = "gpt-3.5-turbo";
    private double temperature = 0.7;
    private int maxTokens = 1000;
    private String token;

    public ChatRequest(String token) {
      this.token = token;
    }

    public List<Map<String, String>> getMessages() {
      return messages;
    }

    public ChatRequest setMessages(List<Map<String, String>> messages) {
      this.messages = messages;
      return this;
    }

    public String getModel() {
      return model;
    }

    public ChatRequest setModel(String model) {
      this.model = model;
      return this;
    }

    public double getTemperature() {
      return temperature;
    }

    public ChatRequest setTemperature(double temperature) {
      this.temperature = temperature;
      return this;
    }

    public int getMaxTokens() {
      return maxTokens;
    }

    public ChatRequest setMaxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    public String getToken() {
      return token;
    }

    public Map<String, Object> toRequestBody() {
      return body("messages", messages, "model", model, "temperature", temperature, "max_tokens", maxTokens);
    }
  }

  /**
   * An image generation request (1.x API).
   *
   * @deprecated Use the official {@code com.openai:openai-java} client's {@code ImageGenerateParams}.
   */
  @Deprecated
  public static class ImageRequest {
    private String prompt;
    private String model = "dall-e-3";
    private String size = "1024x1024";
    private String quality = "standard";
    private int n = 1;
    private String token;

    public ImageRequest(String token) {
      this.token = token;
    }

    public String getPrompt() {
      return prompt;
    }

    public ImageRequest setPrompt(String prompt) {
      this.prompt = prompt;
      return this;
    }

    public String getModel() {
      return model;
    }

    public ImageRequest setModel(String model) {
      this.model = model;
      return this;
    }

    public String getSize() {
      return size;
    }

    public ImageRequest setSize(String size) {
      this.size = size;
      return this;
    }

    public String getQuality() {
      return quality;
    }

    public ImageRequest setQuality(String quality) {
      this.quality = quality;
      return this;
    }

    public int getN() {
      return n;
    }

    public ImageRequest setN(int n) {
      this.n = n;
      return this;
    }

    public String getToken() {
      return token;
    }

    public Map<String, Object> toRequestBody() {
      return body("prompt", prompt, "model", model, "size", size, "quality", quality, "n", n);
    }
  }

  /**
   * An embedding request (1.x API).
   *
   * @deprecated Use the official {@code com.openai:openai-java} client's {@code EmbeddingCreateParams}.
   */
  @Deprecated
  public static class EmbeddingRequest {
    private String input;
    private String model = "text-embedding-ada-002";
    private String token;

    public EmbeddingRequest(String token) {
      this.token = token;
    }

    public String getInput() {
      return input;
    }

    public EmbeddingRequest setInput(String input) {
      this.input = input;
      return this;
    }

    public String getModel() {
      return model;
    }

    public EmbeddingRequest setModel(String model) {
      this.model = model;
      return this;
    }

    public String getToken() {
      return token;
    }

    public Map<String, Object> toRequestBody() {
      return body("input", input, "model", model);
    }
  }
}
