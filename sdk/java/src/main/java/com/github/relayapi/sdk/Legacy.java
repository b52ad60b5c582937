package com.github.relayapi.sdk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.relayapi.RelayAPI;
import io.github.relayapi.RelayAPIException;
import io.github.relayapi.RelayHttpException;
import io.github.relayapi.TokenRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** What the 1.x wrappers share: key file, token options, URLs and HTTP. Not public API. */
@SuppressWarnings("deprecation")
final class Legacy {
  static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private static final Pattern BAD_ENDPOINT = Pattern.compile("[\\s?#]|(^|/)\\.\\.?(/|$)");
  private static final int META_MAX_ENTRIES = 32;
  private static final int META_MAX_KEY = 64;
  private static final int META_MAX_VALUE = 256;

  private Legacy() {}

  /** The 2.x client for a 1.x {@link Config}; errors as 1.x reported them (IllegalArgumentException). */
  static RelayAPI relay(Config config) {
    if (config == null || config.getCrypto() == null) {
      throw new IllegalArgumentException("Invalid config: missing crypto section");
    }
    ObjectNode rai = MAPPER.createObjectNode();
    if (config.getVersion() != null) {
      rai.put("version", config.getVersion());
    }
    rai.setAll(otherFields(config.getOtherFields()));
    ObjectNode server = rai.putObject("server");
    Config.ServerConfig s = config.getServer();
    if (s != null) {
      server.setAll(otherFields(s.getOtherFields()));
      if (s.getHost() != null) {
        server.put("host", s.getHost());
      }
      if (s.getPort() != 0) {
        server.put("port", s.getPort());
      }
      if (s.getBasePath() != null) {
        server.put("base_path", s.getBasePath());
      }
    }
    ObjectNode crypto = rai.putObject("crypto");
    Config.CryptoConfig c = config.getCrypto();
    crypto.setAll(otherFields(c.getOtherFields()));
    if (c.getMethod() != null) {
      crypto.put("method", c.getMethod());
    }
    if (c.getAesKey() != null) {
      crypto.put("aes_key", c.getAesKey());
    }
    if (c.getAesIvSeed() != null) {
      crypto.put("aes_iv_seed", c.getAesIvSeed());
    }
    try {
      return RelayAPI.fromJson(MAPPER.writeValueAsString(rai));
    } catch (RelayAPIException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Invalid config: " + e.getOriginalMessage(), e);
    }
  }

  private static ObjectNode otherFields(Map<String, Object> fields) {
    return MAPPER.valueToTree(fields == null ? Map.of() : fields);
  }

  /** 1.x token options → a 2.x request. */
  static TokenRequest request(TokenOptions options) {
    if (options == null) {
      throw new IllegalArgumentException("options: must not be null");
    }
    if (options.getExpireSeconds() < 1) {
      throw new IllegalArgumentException(
          "expireSeconds: must be at least 1, got " + options.getExpireSeconds());
    }
    TokenRequest.Builder b =
        TokenRequest.builder()
            .provider(options.getProvider())
            .apiKey(options.getApiKey())
            .maxCalls(options.getMaxCalls())
            .expiresIn(Duration.ofSeconds(options.getExpireSeconds()));
    Map<String, Object> ext = extInfoClaims(options.getExtInfo());
    @SuppressWarnings("unchecked")
    Map<String, String> modelMap = (Map<String, String>) ext.get("model_map");
    @SuppressWarnings("unchecked")
    Map<String, String> meta = (Map<String, String>) ext.get("meta");
    if (modelMap != null) {
      b.modelMap(modelMap);
    }
    if (meta != null) {
      b.meta(meta);
    }
    return b.build();
  }

  /**
   * Maps a 1.x {@code ext_info} to claims, as every SDK does: {@code ""}/null → none; a JSON
   * object: {@code rep_m} → {@code model_map {"*": rep_m}}, other members → {@code meta} (strings as
   * they are, other values as compact JSON); any other text → {@code meta {"ext_info": text}}.
   */
  static Map<String, Object> extInfoClaims(String extInfo) {
    Map<String, Object> claims = new LinkedHashMap<>();
    if (extInfo == null || extInfo.isEmpty()) {
      return claims;
    }
    JsonNode data = null;
    try {
      data = MAPPER.readTree(extInfo);
    } catch (IOException notJson) {
      data = null;
    }
    if (data == null || !data.isObject()) {
      metaEntry("ext_info", extInfo);
      claims.put("meta", Map.of("ext_info", extInfo));
      return claims;
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = data.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode value = e.getValue();
      if (key.equals("rep_m")) {
        if (value.isNull() || (value.isTextual() && value.asText().isEmpty())) {
          continue; // no replacement, as in 1.x
        }
        if (!value.isTextual() || utf8Length(value.asText()) > 256) {
          throw new IllegalArgumentException("extInfo: rep_m must be a model name (a string of 1-256 bytes)");
        }
        claims.put("model_map", Map.of("*", value.asText()));
        continue;
      }
      String text = value.isTextual() ? value.asText() : value.toString();
      metaEntry(key, text);
      meta.put(key, text);
    }
    if (meta.size() > META_MAX_ENTRIES) {
      throw new IllegalArgumentException(
          "extInfo: has " + meta.size() + " keys besides rep_m; meta holds at most " + META_MAX_ENTRIES);
    }
    if (!meta.isEmpty()) {
      claims.put("meta", meta);
    }
    return claims;
  }

  private static void metaEntry(String key, String value) {
    int k = utf8Length(key);
    if (k < 1 || k > META_MAX_KEY) {
      throw new IllegalArgumentException(
          "extInfo: key \"" + key + "\" must be 1-" + META_MAX_KEY + " bytes long to go to meta, got " + k);
    }
    int v = utf8Length(value);
    if (v < 1 || v > META_MAX_VALUE) {
      throw new IllegalArgumentException(
          "extInfo: the value of \"" + key + "\" must be 1-" + META_MAX_VALUE + " bytes long to go to meta, got " + v);
    }
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** Checks a token string: a 2.x token (a JWE, five parts). */
  static String token(String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("token: is required: pass the token from createToken()");
    }
    String t = token.strip(); // 1.x tokens often came from a file or a header
    if (t.split("\\.", -1).length != 5) {
      throw new IllegalArgumentException(
          "token: is not a RelayAPI 2.x token (5 dot-separated parts): mint it with createToken() "
              + "of this SDK; 1.x tokens are not accepted");
    }
    return t;
  }

  /**
   * The path-token URL: {@code {relay}/t/{token}/v1}, plus the endpoint. An endpoint starting
   * with {@code v1/} (1.x style) goes after {@code /t/{token}}, any other after {@code
   * /t/{token}/v1}.
   */
  static String url(RelayAPI relay, String token, String endpoint) {
    String t = token(token);
    String base;
    try {
      base = relay.baseUrl(t);
    } catch (RelayAPIException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (endpoint == null || endpoint.isEmpty()) {
      return base;
    }
    if (BAD_ENDPOINT.matcher(endpoint).find()) {
      throw new IllegalArgumentException(
          "endpoint: must be an API path such as \"chat/completions\" or \"v1/chat/completions\", got \""
              + endpoint + "\"");
    }
    String path = endpoint.replaceFirst("^/+", "");
    if (path.isEmpty()) {
      return base;
    }
    if (path.equals("v1") || path.startsWith("v1/")) {
      return relay.relayUrl() + "/t/" + t + "/" + path;
    }
    return base + "/" + path;
  }

  // -------------------------------------------------------------------- HTTP

  /** POSTs (body non-null) or GETs and returns the JSON object answered; errors as IOException. */
  static Map<String, Object> send(HttpClient http, String url, Object body, String what) throws IOException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(600))
            .header("Accept", "application/json")
            .header("User-Agent", "relayapi-java/2.0.0 (1.x API)");
    if (body != null) {
      req.header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(MAPPER.writeValueAsBytes(body)));
    } else {
      req.GET();
    }
    HttpResponse<String> res;
    try {
      res = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(what + " failed: interrupted", e);
    } catch (IOException e) {
      // No URL in the message: it carries the token.
      throw new IOException(what + " failed: cannot reach the relay (" + e.getClass().getSimpleName() + ")", e);
    }
    String text = res.body() == null ? "" : res.body();
    if (res.statusCode() >= 400) {
      RelayHttpException err =
          RelayHttpException.fromResponse(
              res.statusCode(), text, res.headers().firstValue("Retry-After").orElse(null));
      throw new IOException(
          what + " failed: " + res.statusCode() + " " + err.code() + ": " + err.getMessage(), err);
    }
    try {
      JsonNode n = MAPPER.readTree(text);
      if (n != null && n.isObject()) {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = MAPPER.convertValue(n, Map.class);
        return map;
      }
    } catch (IOException notJson) {
      // below
    }
    throw new IOException(what + " failed: the answer is not a JSON object (HTTP " + res.statusCode() + ")");
  }
}
