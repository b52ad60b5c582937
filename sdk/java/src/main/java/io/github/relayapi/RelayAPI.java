package io.github.relayapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Mints RelayAPI tokens offline from a {@code .rai} key file and builds relay base URLs.
 *
 * <pre>{@code
 * RelayAPI relay = RelayAPI.fromFile(Path.of("default.rai"));
 * Token token = relay.createToken(TokenRequest.builder().apiKey(key).maxCalls(10).build());
 * String baseUrl = relay.baseUrl(token); // http://127.0.0.1:8840/t/<token>/v1
 * }</pre>
 *
 * <p>The {@code aes} file (also the one RelayAPI 1.x wrote) and the {@code ecc} <em>backend</em>
 * file ({@code relayapi keygen --out}) can mint; an {@code ecc} relay file is refused. Instances
 * are immutable and thread-safe: make one at start-up and share it.
 */
public final class RelayAPI {
  /** Tokens longer than this are refused (docs/token-format.md §5). */
  public static final int MAX_TOKEN_BYTES = 8192;

  /** The environment variable {@link #fromEnv()} reads: a {@code .rai} path or its JSON. */
  public static final String ENV_RAI = "RELAYAPI_RAI";

  /** The environment variable holding the admin key, read at call time when none was given. */
  public static final String ENV_ADMIN_KEY = "RELAYAPI_ADMIN_KEY";

  private static final Pattern TOKEN_CHARS = Pattern.compile("[A-Za-z0-9_.-]+");
  private static final Pattern RELAY_URL = Pattern.compile("https?://[^\\s/?#]+(/[^\\s?#]*)?");

  private final KeyFile keys;
  private final Minter minter;
  private final String relayUrl;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final AdminClient admin;

  private RelayAPI(Builder b, KeyFile keys) {
    if (!keys.canMint()) {
      throw new InvalidConfigException(
          "this is an ecc relay key file (wrong role): the SDK needs the backend file written by "
              + "`relayapi keygen --out`");
    }
    this.keys = keys;
    this.minter = new Minter(keys);
    this.relayUrl = b.relayUrl != null ? normaliseRelayUrl(b.relayUrl) : keys.server.url();
    this.clock = b.clock;
    this.admin = new AdminClient(relayUrl, b.adminKey, b.httpClient, b.timeout);
  }

  /**
   * Loads a {@code .rai} file.
   *
   * @param path the key file
   * @return the client
   * @throws InvalidConfigException unreadable, malformed, a relay file, or the 1.x example key
   */
  public static RelayAPI fromFile(Path path) {
    return builder().rai(path).build();
  }

  /**
   * Loads a {@code .rai} file's JSON content.
   *
   * @param json the key file's content
   * @return the client
   * @throws InvalidConfigException malformed, a relay file, or the 1.x example key
   */
  public static RelayAPI fromJson(String json) {
    return builder().raiJson(json).build();
  }

  /**
   * Loads the {@code .rai} named by {@code RELAYAPI_RAI}: a file path, or the JSON itself (starting
   * with <code>{</code>, handy for secret managers). The admin key comes from {@code
   * RELAYAPI_ADMIN_KEY}.
   *
   * @return the client
   * @throws InvalidConfigException the variable is unset or its content is invalid
   */
  public static RelayAPI fromEnv() {
    return builder().raiFromEnv().build();
  }

  /** A builder for the other options (relay URL, admin key, HTTP client, warning sink…). */
  public static Builder builder() {
    return new Builder();
  }

  /** {@code aes} or {@code ecc}. */
  public String method() {
    return keys.method;
  }

  /** The {@code kid} written into the outer JWE header of minted tokens. */
  public String keyId() {
    return minter.kid();
  }

  /** The relay's root URL: {@code {scheme}://{host}[:{port}]{base_path}}, no trailing {@code /}. */
  public String relayUrl() {
    return relayUrl;
  }

  @Override
  public String toString() {
    return "RelayAPI[method=" + keys.method + ", relayUrl=" + relayUrl + "]";
  }

  // ------------------------------------------------------------------- tokens

  /**
   * The claims set {@link #createToken} would encrypt for {@code request} (a fresh {@code jti},
   * {@code iat} now), validated; nothing is encrypted.
   *
   * @param request what the token allows
   * @return the claims, wire names, read-only
   * @throws InvalidArgumentException a value breaks a rule of docs/token-format.md §4
   */
  public Map<String, Object> buildClaims(TokenRequest request) {
    Objects.requireNonNull(request, "request");
    long now = clock.instant().getEpochSecond();
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("jti", request.jti != null ? request.jti : randomJti());
    long iat = request.issuedAt != null ? request.issuedAt.getEpochSecond() : now;
    c.put("iat", iat);
    if (request.expiresIn != null && request.expiresAt != null) {
      throw new InvalidArgumentException("expiresIn", "give expiresIn or expiresAt, not both");
    }
    if (request.expiresAt != null) {
      c.put("exp", request.expiresAt.getEpochSecond());
    } else {
      Duration lifetime = request.expiresIn != null ? request.expiresIn : TokenRequest.DEFAULT_EXPIRES_IN;
      long seconds = lifetime.getSeconds();
      if (seconds < 1) {
        throw new InvalidArgumentException("expiresIn", "must be at least one second, got " + lifetime);
      }
      if (seconds > ClaimRules.MAX_SAFE - now) {
        throw new InvalidArgumentException("expiresIn", "is too long");
      }
      c.put("exp", now + seconds);
    }
    if (request.notBefore != null) {
      c.put("nbf", request.notBefore.getEpochSecond());
    } else if (request.notBeforeIn != null) {
      c.put("nbf", now + request.notBeforeIn.getSeconds());
    }
    if (request.provider != null) {
      c.put("provider", request.provider);
    }
    c.putAll(request.claims);
    for (Map.Entry<String, Object> e : request.extra.entrySet()) {
      String name = e.getKey();
      if (name == null || !name.startsWith("x_") || name.length() < 3) {
        throw new InvalidArgumentException("extra", "claim name " + name + " must start with \"x_\"");
      }
      c.put(name, jsonValue(name, e.getValue()));
    }
    try {
      ClaimRules.validate(c);
    } catch (ClaimRules.ClaimError err) {
      throw new InvalidArgumentException(paramOf(err.claim, request), err.detail);
    }
    return Collections.unmodifiableMap(c);
  }

  /**
   * Mints a token. Every value is checked first; nothing is encrypted when one is invalid.
   *
   * @param request what the token allows
   * @return the token
   * @throws InvalidArgumentException a value breaks a rule of docs/token-format.md §4 ({@code
   *     param()} names the builder method), or the token would exceed 8192 bytes (code {@code
   *     token_too_large})
   */
  public Token createToken(TokenRequest request) {
    return mint(buildClaims(request));
  }

  private Token mint(Map<String, Object> claims) {
    byte[] json;
    try {
      json = Json.MAPPER.writeValueAsBytes(claims);
    } catch (JsonProcessingException e) {
      throw new InvalidArgumentException("extra", "cannot be serialised as JSON: " + e.getOriginalMessage());
    }
    String value = minter.mint(json);
    if (value.length() > MAX_TOKEN_BYTES) {
      throw new InvalidArgumentException(
          "token_too_large",
          "claims",
          "the token would be " + value.length() + " bytes, over the " + MAX_TOKEN_BYTES
              + "-byte limit: shorten models, paths, ips, origins, modelMap, meta or extra");
    }
    long exp = ((Number) claims.get("exp")).longValue();
    return new Token(value, (String) claims.get("jti"), Instant.ofEpochSecond(exp), claims);
  }

  private String randomJti() {
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** An extension claim's value in its JSON form (String, Long, Double, Boolean, List, Map). */
  private static Object jsonValue(String name, Object value) {
    JsonNode node;
    try {
      node = Json.MAPPER.valueToTree(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException("extra." + name, "must be a JSON value: " + e.getMessage());
    }
    if (node == null || node.isNull() || node.isMissingNode()) {
      throw new InvalidArgumentException("extra." + name, "must not be null (omit it instead)");
    }
    if (!finite(node)) {
      throw new InvalidArgumentException("extra." + name, "must not contain NaN or Infinity");
    }
    return Json.MAPPER.convertValue(node, Object.class);
  }

  private static boolean finite(JsonNode node) {
    if (node.isFloatingPointNumber()) {
      double d = node.asDouble();
      return !Double.isNaN(d) && !Double.isInfinite(d);
    }
    for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
      if (!finite(it.next())) {
        return false;
      }
    }
    return true;
  }

  private static String paramOf(String claim, TokenRequest request) {
    if (claim.startsWith("x_")) {
      return "extra." + claim;
    }
    switch (claim) {
      case "exp":
        return request.expiresAt != null ? "expiresAt" : "expiresIn";
      case "iat":
        return "issuedAt";
      case "nbf":
        return "notBefore";
      case "api_key":
        return "apiKey";
      case "max_calls":
        return "maxCalls";
      case "max_tokens":
        return "maxTokens";
      case "token_budget":
        return "tokenBudget";
      case "max_session_seconds":
        return "maxSessionSeconds";
      case "model_map":
        return "modelMap";
      default:
        return claim;
    }
  }

  // --------------------------------------------------------------------- URLs

  /** The OpenAI-flavor base URL for {@code token}: {@code {relay}/t/{token}/v1}. */
  public String baseUrl(Token token) {
    return baseUrl(token, Flavor.OPENAI);
  }

  /** The OpenAI-flavor base URL for a token string: {@code {relay}/t/{token}/v1}. */
  public String baseUrl(String token) {
    return baseUrl(token, Flavor.OPENAI);
  }

  /**
   * The base URL a vendor SDK expects, with the token in the path (docs/token-format.md §7).
   *
   * @param token the token
   * @param flavor {@link Flavor#OPENAI} → {@code {relay}/t/{token}/v1}, {@link Flavor#ANTHROPIC}
   *     and {@link Flavor#GEMINI} → {@code {relay}/t/{token}}
   * @return the base URL
   */
  public String baseUrl(Token token, Flavor flavor) {
    if (token == null) {
      throw new InvalidArgumentException("token", "must be a Token or a token string");
    }
    return baseUrl(token.value(), flavor);
  }

  /**
   * The base URL for a token string (see {@link #baseUrl(Token, Flavor)}).
   *
   * @param token the token value
   * @param flavor which vendor SDK the URL is for
   * @return the base URL
   * @throws InvalidArgumentException not a token string, or no flavor
   */
  public String baseUrl(String token, Flavor flavor) {
    if (flavor == null) {
      throw new InvalidArgumentException("flavor", "must be OPENAI, ANTHROPIC or GEMINI");
    }
    String url = relayUrl + "/t/" + tokenValue(token);
    return flavor == Flavor.OPENAI ? url + "/v1" : url;
  }

  /** Mints a token and returns its OpenAI-flavor base URL in one step. */
  public String generateUrl(TokenRequest request) {
    return generateUrl(request, Flavor.OPENAI);
  }

  /** Mints a token and returns its base URL for {@code flavor} in one step. */
  public String generateUrl(TokenRequest request, Flavor flavor) {
    if (flavor == null) {
      throw new InvalidArgumentException("flavor", "must be OPENAI, ANTHROPIC or GEMINI");
    }
    return baseUrl(createToken(request), flavor);
  }

  static String tokenValue(String token) {
    if (token == null || !TOKEN_CHARS.matcher(token).matches()) {
      throw new InvalidArgumentException(
          "token", "must be a token from createToken() (characters A-Z a-z 0-9 - _ .)");
    }
    if (token.length() > MAX_TOKEN_BYTES) {
      throw new InvalidArgumentException("token", "is longer than " + MAX_TOKEN_BYTES + " bytes");
    }
    return token;
  }

  static String normaliseRelayUrl(String url) {
    if (url == null || !RELAY_URL.matcher(url).matches()) {
      throw new InvalidArgumentException(
          "relayUrl", "must be an http(s) URL like https://relay.example.com, without query or fragment");
    }
    return url.replaceAll("/+$", "");
  }

  // -------------------------------------------------------------------- admin

  /**
   * The relay's admin API ({@code GET /admin/tokens/{jti}}, revoke, listings) at this client's
   * relay URL, with the builder's admin key or else {@code RELAYAPI_ADMIN_KEY}.
   */
  public AdminClient admin() {
    return admin;
  }

  // ------------------------------------------------------------------ builder

  /** Options of a {@link RelayAPI}. Give the key file with one of the {@code rai…} methods. */
  public static final class Builder {
    private Path raiPath;
    private String raiJson;
    private Function<String, String> env;
    private String relayUrl;
    private String adminKey;
    private HttpClient httpClient;
    private Duration timeout = Duration.ofSeconds(30);
    private Consumer<String> warnings = RelayAPI::logWarning;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The {@code .rai} key file to load. */
    public Builder rai(Path path) {
      this.raiPath = Objects.requireNonNull(path, "path");
      this.raiJson = null;
      this.env = null;
      return this;
    }

    /** The {@code .rai} key file's JSON content. */
    public Builder raiJson(String json) {
      this.raiJson = Objects.requireNonNull(json, "json");
      this.raiPath = null;
      this.env = null;
      return this;
    }

    /** The {@code .rai} named by {@code RELAYAPI_RAI} (a path or the JSON itself). */
    public Builder raiFromEnv() {
      return raiFromEnv(System::getenv);
    }

    /** As {@link #raiFromEnv()}, reading variables through {@code getenv} (for tests). */
    Builder raiFromEnv(Function<String, String> getenv) {
      this.env = Objects.requireNonNull(getenv, "getenv");
      this.raiPath = null;
      this.raiJson = null;
      return this;
    }

    /**
     * The relay's public root URL ({@code https://relay.example.com} or {@code …/base/path}),
     * overriding the {@code .rai} {@code server} section.
     */
    public Builder relayUrl(String url) {
      this.relayUrl = url;
      return this;
    }

    /** The relay's admin key for {@link #admin()}; default: {@code RELAYAPI_ADMIN_KEY} at call time. */
    public Builder adminKey(String key) {
      this.adminKey = key;
      return this;
    }

    /** The HTTP client of admin calls (default: one made on first use). */
    public Builder httpClient(HttpClient client) {
      this.httpClient = client;
      return this;
    }

    /** Timeout of one admin call (default 30 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Receives warnings about the key file, e.g. that {@code aes_iv_seed} is ignored (default: the
     * {@link System.Logger} {@code io.github.relayapi} at level WARNING).
     */
    public Builder warnings(Consumer<String> sink) {
      this.warnings = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /** The clock of {@code iat}/{@code exp} (default: the system clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Loads the key file and builds the client.
     *
     * @return the client
     * @throws InvalidConfigException no key file given, or it cannot be used
     * @throws InvalidArgumentException an invalid relay URL
     */
    public RelayAPI build() {
      KeyFile keys;
      if (raiPath != null) {
        keys = KeyFile.load(raiPath, warnings);
      } else if (raiJson != null) {
        keys = KeyFile.parseJson(raiJson, ".rai", warnings);
      } else if (env != null) {
        String raw = env.apply(ENV_RAI);
        raw = raw == null ? "" : raw.strip();
        if (raw.isEmpty()) {
          throw new InvalidConfigException(
              "environment variable " + ENV_RAI + " is not set (a .rai file path or its JSON)");
        }
        keys = raw.startsWith("{") ? KeyFile.parseJson(raw, ENV_RAI, warnings) : KeyFile.load(Path.of(raw), warnings);
        if (adminKey == null) {
          adminKey = env.apply(ENV_ADMIN_KEY);
        }
      } else {
        throw new InvalidConfigException("no .rai key file: call rai(path), raiJson(json) or raiFromEnv()");
      }
      return new RelayAPI(this, keys);
    }
  }

  private static void logWarning(String message) {
    System.getLogger("io.github.relayapi").log(System.Logger.Level.WARNING, message);
  }
}
