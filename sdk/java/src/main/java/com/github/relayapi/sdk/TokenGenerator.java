package com.github.relayapi.sdk;

import io.github.relayapi.RelayAPI;
import io.github.relayapi.RelayAPIException;
import io.github.relayapi.TokenRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The 1.x token generator, over {@link RelayAPI} (RelayAPI 1.x Java API). {@link
 * #createToken(TokenOptions)} returns the claims this relay's token carries, {@link
 * #encryptToken(Map)} mints them: a JWE for this relay (docs/token-format.md), never the 1.x
 * format.
 *
 * @deprecated Use {@link RelayAPI}: {@link RelayAPI#buildClaims}, {@link RelayAPI#createToken},
 *     {@link RelayAPI#relayUrl()}.
 */
@Deprecated
public class TokenGenerator {
  private final RelayAPI relay;

  /**
   * @param config the 1.x key file (1.x files load unchanged; the 1.x example key is refused)
   * @throws IllegalArgumentException the key file cannot be used (the message says why)
   * @deprecated Use {@link RelayAPI#fromFile(java.nio.file.Path)}.
   */
  @Deprecated
  public TokenGenerator(Config config) {
    this.relay = Legacy.relay(config);
  }

  /**
   * The claims of a new token for these options ({@code jti}, {@code iat}, {@code exp}, {@code
   * provider}, {@code api_key}, {@code max_calls}, {@code model_map}/{@code meta} from {@code
   * extInfo}); nothing is encrypted. Unlike 1.x these are this relay's claims, not 1.x's {@code
   * id}/{@code expire_time}/{@code ext_info}.
   *
   * @param options the token options
   * @return the claims (a mutable copy)
   * @throws IllegalArgumentException an option is invalid
   * @deprecated Use {@link RelayAPI#buildClaims(TokenRequest)}.
   */
  @Deprecated
  public Map<String, Object> createToken(TokenOptions options) {
    try {
      return new LinkedHashMap<>(relay.buildClaims(Legacy.request(options)));
    } catch (RelayAPIException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * Mints a token holding {@code tokenData} (claims from {@link #createToken(TokenOptions)}).
   *
   * @param tokenData the claims
   * @return the token
   * @throws IllegalArgumentException the claims break a rule (1.x token data is not accepted)
   * @deprecated Use {@link RelayAPI#createToken(TokenRequest)}{@code .value()}.
   */
  @Deprecated
  public String encryptToken(Map<String, Object> tokenData) {
    if (tokenData == null) {
      throw new IllegalArgumentException("tokenData: must be the map createToken() returned");
    }
    for (String old : List.of("expire_time", "ext_info", "created_at")) {
      if (tokenData.containsKey(old)) {
        throw new IllegalArgumentException(
            "tokenData: is RelayAPI 1.x token data: pass what TokenGenerator.createToken() of this SDK "
                + "returns (the 1.x token format is not accepted by this relay)");
      }
    }
    try {
      return relay.createToken(TokenRequest.fromClaims(tokenData)).value();
    } catch (RelayAPIException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * {@code {relay}/{path}}: the relay's root URL (with its base path) joined with {@code path}.
   *
   * @param path a path such as {@code health}, or empty
   * @return the URL
   * @deprecated Use {@link RelayAPI#relayUrl()}.
   */
  @Deprecated
  public String getServerUrl(String path) {
    String p = path == null ? "" : path.replaceFirst("^/+", "");
    return p.isEmpty() ? relay.relayUrl() : relay.relayUrl() + "/" + p;
  }

  /**
   * The key id ({@code kid}) tokens are minted with. 1.x returned a hash for its {@code rai_hash}
   * URL parameter; this relay picks the key from the token's {@code kid} and needs no hash.
   *
   * @return the key id
   * @deprecated Use {@link RelayAPI#keyId()}.
   */
  @Deprecated
  public String getHash() {
    return relay.keyId();
  }

  RelayAPI relay() {
    return relay;
  }
}
