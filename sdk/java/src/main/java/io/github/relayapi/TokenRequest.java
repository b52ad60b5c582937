package io.github.relayapi;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a token allows: every claim of docs/token-format.md §4. Immutable; build one with {@link
 * #builder()}. Every limit is optional (absent means "no limit"); the provider defaults to {@code
 * openai} and the lifetime to one hour.
 *
 * <pre>{@code
 * TokenRequest request = TokenRequest.builder()
 *     .provider("openai")
 *     .apiKey(System.getenv("OPENAI_API_KEY"))
 *     .models("gpt-4o-mini")
 *     .maxCalls(20)
 *     .expiresIn(Duration.ofMinutes(10))
 *     .build();
 * }</pre>
 *
 * <p>Values are checked by {@link RelayAPI#createToken(TokenRequest)} (before anything is
 * encrypted), which throws {@link InvalidArgumentException} naming the builder method at fault.
 */
public final class TokenRequest {
  /** Default lifetime of a token. */
  public static final Duration DEFAULT_EXPIRES_IN = Duration.ofHours(1);

  final String provider;
  final Duration expiresIn;
  final Instant expiresAt;
  final Instant notBefore;
  final Duration notBeforeIn;
  final Instant issuedAt;
  final String jti;
  /** Every other claim, wire names, in the order set (api_key, sub, limits…). */
  final Map<String, Object> claims;
  /** {@code x_…} extension claims. */
  final Map<String, Object> extra;

  private TokenRequest(Builder b) {
    provider = b.provider;
    expiresIn = b.expiresIn;
    expiresAt = b.expiresAt;
    notBefore = b.notBefore;
    notBeforeIn = b.notBeforeIn;
    issuedAt = b.issuedAt;
    jti = b.jti;
    claims = Collections.unmodifiableMap(new LinkedHashMap<>(b.claims));
    extra = Collections.unmodifiableMap(new LinkedHashMap<>(b.extra));
  }

  /** A new builder (provider {@code openai}, lifetime one hour, no limits). */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this request's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.provider = provider;
    b.expiresIn = expiresIn;
    b.expiresAt = expiresAt;
    b.notBefore = notBefore;
    b.notBeforeIn = notBeforeIn;
    b.issuedAt = issuedAt;
    b.jti = jti;
    b.claims.putAll(claims);
    b.extra.putAll(extra);
    return b;
  }

  /**
   * A request for exactly these claims (wire names: {@code jti}, {@code exp}, {@code api_key},
   * {@code max_calls}, {@code x_…}, …), e.g. claims from {@link RelayAPI#buildClaims}. {@code exp},
   * {@code iat} and {@code nbf} are seconds since the epoch.
   *
   * @param claims the claims set
   * @return the request
   * @throws InvalidArgumentException an unknown claim name, or a time that is not an integer
   */
  public static TokenRequest fromClaims(Map<String, ?> claims) {
    if (claims == null) {
      throw new InvalidArgumentException("claims", "must be a map of claims");
    }
    Builder b = new Builder();
    b.provider = null;
    b.expiresIn = null;
    for (Map.Entry<String, ?> e : claims.entrySet()) {
      String name = e.getKey();
      Object value = e.getValue();
      if (name == null) {
        throw new InvalidArgumentException("claims", "claim names must not be null");
      }
      if (name.startsWith("x_")) {
        b.extra.put(name, value);
        continue;
      }
      if (!ClaimRules.KNOWN.contains(name)) {
        throw new InvalidArgumentException(
            name, "is not a known claim (extension claims must start with \"x_\")");
      }
      switch (name) {
        case "exp":
          b.expiresAt = epochSeconds(name, value);
          break;
        case "iat":
          b.issuedAt = epochSeconds(name, value);
          break;
        case "nbf":
          b.notBefore = epochSeconds(name, value);
          break;
        case "provider":
          if (!(value instanceof String)) {
            throw new InvalidArgumentException("provider", "must be a string");
          }
          b.provider = (String) value;
          break;
        case "jti":
          if (!(value instanceof String)) {
            throw new InvalidArgumentException("jti", "must be a string");
          }
          b.jti = (String) value;
          break;
        default:
          b.claims.put(name, value);
      }
    }
    return b.build();
  }

  private static Instant epochSeconds(String claim, Object value) {
    Long n = ClaimRules.integral(value);
    if (n == null) {
      throw new InvalidArgumentException(claim, "must be an integer (seconds since the epoch)");
    }
    try {
      return Instant.ofEpochSecond(n);
    } catch (RuntimeException e) {
      throw new InvalidArgumentException(claim, "is out of range");
    }
  }

  /** Mutable builder of a {@link TokenRequest}; not thread-safe (the built request is). */
  public static final class Builder {
    private String provider = "openai";
    private Duration expiresIn;
    private Instant expiresAt;
    private Instant notBefore;
    private Duration notBeforeIn;
    private Instant issuedAt;
    private String jti;
    private final Map<String, Object> claims = new LinkedHashMap<>();
    private final Map<String, Object> extra = new LinkedHashMap<>();

    private Builder() {}

    private Builder put(String claim, Object value) {
      if (value == null) {
        claims.remove(claim);
      } else {
        claims.put(claim, value);
      }
      return this;
    }

    private static List<String> list(Collection<String> values) {
      return values == null ? null : Collections.unmodifiableList(new ArrayList<>(values));
    }

    private static Map<String, String> map(Map<String, String> values) {
      return values == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /**
     * Provider name configured on the relay ({@code openai}, {@code anthropic}, {@code gemini}, or
     * one the operator defined). Default {@code openai}.
     */
    public Builder provider(String provider) {
      this.provider = provider;
      return this;
    }

    /** The real upstream API key; leave it out when the relay holds the credential. */
    public Builder apiKey(String apiKey) {
      return put("api_key", apiKey);
    }

    /** Lifetime from now, in whole seconds (default one hour). Give this or {@link #expiresAt}. */
    public Builder expiresIn(Duration lifetime) {
      this.expiresIn = lifetime;
      return this;
    }

    /** Lifetime from now in seconds (default 3600). Give this or {@link #expiresAt}. */
    public Builder expiresIn(long seconds) {
      return expiresIn(Duration.ofSeconds(seconds));
    }

    /** Absolute expiry ({@code exp}, whole seconds). Give this or {@link #expiresIn}. */
    public Builder expiresAt(Instant expiry) {
      this.expiresAt = expiry;
      return this;
    }

    /** Not valid before this instant ({@code nbf}). */
    public Builder notBefore(Instant instant) {
      this.notBefore = instant;
      this.notBeforeIn = null;
      return this;
    }

    /** Not valid until this long from now ({@code nbf}). */
    public Builder notBefore(Duration fromNow) {
      this.notBeforeIn = fromNow;
      this.notBefore = null;
      return this;
    }

    /** Issued-at time ({@code iat}); default: now. */
    public Builder issuedAt(Instant instant) {
      this.issuedAt = instant;
      return this;
    }

    /** Token id ({@code jti}); default 16 random bytes, base64url (22 characters). */
    public Builder jti(String jti) {
      this.jti = jti;
      return this;
    }

    /** End-user id ({@code sub}), e.g. your user's primary key; the admin API lists tokens by it. */
    public Builder sub(String sub) {
      return put("sub", sub);
    }

    /** Total calls allowed ({@code max_calls}). */
    public Builder maxCalls(long maxCalls) {
      return put("max_calls", maxCalls);
    }

    /** Allowed model patterns ({@code *} matches any run of characters), e.g. {@code "gpt-4o*"}. */
    public Builder models(String... patterns) {
      return put("models", patterns == null ? null : list(Arrays.asList(patterns)));
    }

    /** Allowed model patterns. */
    public Builder models(Collection<String> patterns) {
      return put("models", list(patterns));
    }

    /** Allowed upstream path patterns, e.g. {@code "/v1/chat/*"}. */
    public Builder paths(String... patterns) {
      return put("paths", patterns == null ? null : list(Arrays.asList(patterns)));
    }

    /** Allowed upstream path patterns. */
    public Builder paths(Collection<String> patterns) {
      return put("paths", list(patterns));
    }

    /** Requests per minute ({@code rpm}). */
    public Builder rpm(long rpm) {
      return put("rpm", rpm);
    }

    /** Requests in flight at once ({@code concurrency}). */
    public Builder concurrency(long concurrency) {
      return put("concurrency", concurrency);
    }

    /** Per-request clamp of {@code max_tokens}. */
    public Builder maxTokens(long maxTokens) {
      return put("max_tokens", maxTokens);
    }

    /** Total tokens (prompt + completion) over the token's life ({@code token_budget}). */
    public Builder tokenBudget(long tokenBudget) {
      return put("token_budget", tokenBudget);
    }

    /**
     * Longest realtime (WebSocket) session in seconds, 1 … 86400 ({@code max_session_seconds}).
     * Without it the relay's own maximum applies; with it the smaller of the two wins.
     */
    public Builder maxSessionSeconds(long maxSessionSeconds) {
      return put("max_session_seconds", maxSessionSeconds);
    }

    /** Allowed client IPs or CIDRs ({@code 203.0.113.7}, {@code 10.0.0.0/8}, {@code 2001:db8::/32}). */
    public Builder ips(String... ips) {
      return put("ips", ips == null ? null : list(Arrays.asList(ips)));
    }

    /** Allowed client IPs or CIDRs. */
    public Builder ips(Collection<String> ips) {
      return put("ips", list(ips));
    }

    /**
     * Allowed browser origins: {@code https://app.example.com}, {@code https://*.example.com} or
     * {@code *}. A token with origins is refused without a matching {@code Origin} header, so a
     * server-side client must send one.
     */
    public Builder origins(String... origins) {
      return put("origins", origins == null ? null : list(Arrays.asList(origins)));
    }

    /** Allowed browser origins. */
    public Builder origins(Collection<String> origins) {
      return put("origins", list(origins));
    }

    /** Rewrite the requested model before forwarding ({@code model_map}); the key {@code *} maps every model. */
    public Builder modelMap(Map<String, String> modelMap) {
      return put("model_map", map(modelMap));
    }

    /** Free string metadata copied to the relay's request log ({@code meta}). */
    public Builder meta(Map<String, String> meta) {
      return put("meta", map(meta));
    }

    /**
     * An extension claim: the name starts with {@code x_}; the value is any JSON value (String,
     * Number, Boolean, List, Map, Jackson JsonNode…), not null. Ignored by the relay, kept by
     * {@code relayapi inspect}. {@code null} removes it.
     */
    public Builder extra(String name, Object value) {
      if (value == null) {
        extra.remove(name);
      } else {
        extra.put(name, value);
      }
      return this;
    }

    /** Every extension claim at once (replacing those set before). */
    public Builder extra(Map<String, ?> claims) {
      extra.clear();
      if (claims != null) {
        extra.putAll(claims);
      }
      return this;
    }

    /** The immutable request. Values are checked when the token is minted. */
    public TokenRequest build() {
      return new TokenRequest(this);
    }
  }
}
