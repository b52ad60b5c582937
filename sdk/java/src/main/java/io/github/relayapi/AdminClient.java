package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * The relay's admin API (docs/api.md, docs/openapi.yaml) on {@link java.net.http.HttpClient}:
 * usage and revocation of one token, the tokens of an end user, the request log. Every call sends
 * {@code Authorization: Bearer <admin key>}. Thread-safe.
 *
 * <p>Get one from {@link RelayAPI#admin()}, or build one for an operator tool that holds no key
 * file with {@link #builder()}.
 *
 * <p>Errors: {@link RelayHttpException} subclasses by status ({@link AuthenticationException} for a
 * wrong key, {@link NotFoundException} for an unknown token or a disabled admin API, …) carrying
 * the relay's {@code code}; {@link RelayConnectionException} when the relay cannot be reached;
 * {@link InvalidArgumentException} (code {@code missing_admin_key}) when there is no admin key.
 */
public final class AdminClient {
  private static final String USER_AGENT = "relayapi-java/2.0.0";

  private final String relayUrl;
  private final String adminKey;
  private final Duration timeout;
  private final Function<String, String> getenv;
  private final Object lock = new Object();
  private HttpClient http; // guarded by lock; set once

  AdminClient(String relayUrl, String adminKey, HttpClient http, Duration timeout) {
    this(relayUrl, adminKey, http, timeout, System::getenv);
  }

  AdminClient(
      String relayUrl, String adminKey, HttpClient http, Duration timeout, Function<String, String> getenv) {
    this.relayUrl = relayUrl;
    this.adminKey = adminKey;
    this.http = http;
    this.timeout = timeout;
    this.getenv = getenv;
  }

  /** A builder for an admin client without a key file. */
  public static Builder builder() {
    return new Builder();
  }

  /** The relay root URL the calls go to. */
  public String relayUrl() {
    return relayUrl;
  }

  @Override
  public String toString() {
    return "AdminClient[relayUrl=" + relayUrl + "]"; // never the key
  }

  /**
   * Usage of one token: {@code GET /admin/tokens/{jti}}.
   *
   * @param jti the token id ({@link Token#id()})
   * @return what the relay knows about the token
   * @throws NotFoundException the relay has never seen it (code {@code not_found})
   */
  public TokenUsage usage(String jti) {
    return TokenUsage.from(call("GET", "/admin/tokens/" + checkJti(jti)));
  }

  /** Usage of one token (see {@link #usage(String)}). */
  public TokenUsage usage(Token token) {
    return usage(Objects.requireNonNull(token, "token").id());
  }

  /**
   * Revokes a token: {@code POST /admin/tokens/{jti}/revoke}. Its next request is answered {@code
   * 401 token_revoked}, on every relay sharing the store. Idempotent; works for tokens the relay
   * has not seen yet.
   *
   * @param jti the token id
   * @return the relay's answer
   */
  public Revocation revoke(String jti) {
    JsonNode n = call("POST", "/admin/tokens/" + checkJti(jti) + "/revoke");
    return new Revocation(n.path("jti").asText(jti), n.path("revoked").asBoolean(true));
  }

  /** Revokes a token (see {@link #revoke(String)}). */
  public Revocation revoke(Token token) {
    return revoke(Objects.requireNonNull(token, "token").id());
  }

  /**
   * The first page of the tokens of one end user ({@code sub}): {@code GET /admin/tokens?sub=}.
   *
   * @param sub the end user, or {@code null} for every token
   * @return one page, ordered by {@code jti}
   */
  public Page<TokenUsage> tokens(String sub) {
    return tokens(TokenFilter.bySub(sub));
  }

  /**
   * One page of tokens: {@code GET /admin/tokens?sub=&limit=&cursor=}. A token revoked before its
   * first call is not listed (ask for it with {@link #usage(String)}).
   *
   * @param filter sub, page size and cursor
   * @return one page, ordered by {@code jti}
   */
  public Page<TokenUsage> tokens(TokenFilter filter) {
    Objects.requireNonNull(filter, "filter");
    String query = query("sub", filter.sub(), filter.limit(), filter.cursor());
    JsonNode n = call("GET", "/admin/tokens" + query);
    List<TokenUsage> data = new ArrayList<>();
    n.path("data").forEach(item -> data.add(TokenUsage.from(item)));
    return new Page<>(data, JsonFields.text(n, "next_cursor"));
  }

  /** The first page of the request log, newest first: {@code GET /admin/requests}. */
  public Page<RequestRecord> requests() {
    return requests(RequestFilter.all());
  }

  /**
   * One page of the request log, newest first: {@code GET /admin/requests?jti=&limit=&cursor=}.
   *
   * @param filter token id, page size and cursor
   * @return one page
   */
  public Page<RequestRecord> requests(RequestFilter filter) {
    Objects.requireNonNull(filter, "filter");
    String query = query("jti", filter.jti(), filter.limit(), filter.cursor());
    JsonNode n = call("GET", "/admin/requests" + query);
    List<RequestRecord> data = new ArrayList<>();
    n.path("data").forEach(item -> data.add(RequestRecord.from(item)));
    return new Page<>(data, JsonFields.text(n, "next_cursor"));
  }

  // ---------------------------------------------------------------- plumbing

  private static String checkJti(String jti) {
    if (jti == null || !ClaimRules.JTI.matcher(jti).matches()) {
      throw new InvalidArgumentException("jti", "must be a token id (16-128 characters of A-Z a-z 0-9 . _ : -)");
    }
    return jti;
  }

  private static String query(String name, String value, Integer limit, String cursor) {
    StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
    if (value != null) {
      q.add(name + "=" + encode(value));
    }
    if (limit != null) {
      if (limit < 1 || limit > 1000) {
        throw new InvalidArgumentException("limit", "must be between 1 and 1000, got " + limit);
      }
      q.add("limit=" + limit);
    }
    if (cursor != null) {
      q.add("cursor=" + encode(cursor));
    }
    return q.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String key() {
    String key = adminKey != null && !adminKey.isEmpty() ? adminKey : getenv.apply(RelayAPI.ENV_ADMIN_KEY);
    if (key == null || key.isEmpty()) {
      throw new InvalidArgumentException(
          "missing_admin_key", "adminKey", "is required: pass it to the builder or set " + RelayAPI.ENV_ADMIN_KEY);
    }
    return key;
  }

  private HttpClient http() {
    synchronized (lock) {
      if (http == null) {
        http = HttpClient.newBuilder().connectTimeout(timeout).build();
      }
      return http;
    }
  }

  private JsonNode call(String method, String pathAndQuery) {
    String key = key();
    URI uri = URI.create(relayUrl + pathAndQuery);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Authorization", "Bearer " + key)
            .header("Accept", "application/json")
            .header("User-Agent", USER_AGENT);
    if (method.equals("POST")) {
      req.POST(HttpRequest.BodyPublishers.noBody());
    } else {
      req.GET();
    }
    HttpResponse<String> res;
    try {
      res = http().send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new RelayConnectionException(
          method + " " + relayUrl + pathAndQuery + " failed: cannot reach the relay (" + e + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RelayConnectionException(method + " " + relayUrl + pathAndQuery + " was interrupted", e);
    }
    String body = res.body() == null ? "" : res.body();
    if (res.statusCode() >= 400) {
      throw RelayHttpException.fromResponse(
          res.statusCode(), body, res.headers().firstValue("Retry-After").orElse(null));
    }
    try {
      JsonNode n = body.isBlank() ? null : Json.MAPPER.readTree(body);
      if (n == null || !n.isObject()) {
        throw new IOException("not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new RelayAPIException(
          "http_error",
          method + " " + relayUrl + pathAndQuery + ": the relay answered something that is not a JSON object",
          res.statusCode(),
          e);
    }
  }

  /** Options of an {@link AdminClient}. */
  public static final class Builder {
    private String relayUrl;
    private String adminKey;
    private HttpClient httpClient;
    private Duration timeout = Duration.ofSeconds(30);

    private Builder() {}

    /** The relay's root URL ({@code https://relay.example.com}, with its base path if any). Required. */
    public Builder relayUrl(String url) {
      this.relayUrl = url;
      return this;
    }

    /** The relay's admin key; default: {@code RELAYAPI_ADMIN_KEY} at call time. */
    public Builder adminKey(String key) {
      this.adminKey = key;
      return this;
    }

    /** The HTTP client (default: one made on first use). */
    public Builder httpClient(HttpClient client) {
      this.httpClient = client;
      return this;
    }

    /** Timeout of one call (default 30 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Builds the client.
     *
     * @return the client
     * @throws InvalidArgumentException no or an invalid relay URL
     */
    public AdminClient build() {
      return new AdminClient(RelayAPI.normaliseRelayUrl(relayUrl), adminKey, httpClient, timeout);
    }
  }
}
