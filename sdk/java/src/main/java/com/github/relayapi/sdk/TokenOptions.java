package com.github.relayapi.sdk;

/**
 * The options of a token (RelayAPI 1.x Java API): {@code new
 * TokenOptions(apiKey).setMaxCalls(100).setExpireSeconds(3600).setProvider("openai")}.
 *
 * <p>Defaults as in 1.x: 100 calls, 86400 seconds (one day), provider {@code dashscope}, no
 * {@code extInfo}. {@code extInfo} maps to claims: a JSON object's {@code rep_m} (1.x replaced the
 * requested model with it) becomes {@code model_map {"*": rep_m}}, its other members go to {@code
 * meta}; any other text becomes {@code meta {"ext_info": text}}.
 *
 * @deprecated Use {@link io.github.relayapi.TokenRequest#builder()}: {@code
 *     .apiKey(…).maxCalls(…).expiresIn(Duration…).provider(…)}.
 */
@Deprecated
public class TokenOptions {
  private String apiKey;
  private int maxCalls = 100;
  private long expireSeconds = 86400;
  private String provider = "dashscope";
  private String extInfo = "";

  /** @param apiKey the real upstream API key ({@code null}: the relay holds the credential) */
  public TokenOptions(String apiKey) {
    this.apiKey = apiKey;
  }

  public String getApiKey() {
    return apiKey;
  }

  public void setApiKey(String apiKey) {
    this.apiKey = apiKey;
  }

  public int getMaxCalls() {
    return maxCalls;
  }

  public TokenOptions setMaxCalls(int maxCalls) {
    this.maxCalls = maxCalls;
    return this;
  }

  public long getExpireSeconds() {
    return expireSeconds;
  }

  public TokenOptions setExpireSeconds(long expireSeconds) {
    this.expireSeconds = expireSeconds;
    return this;
  }

  public String getProvider() {
    return provider;
  }

  public TokenOptions setProvider(String provider) {
    this.provider = provider;
    return this;
  }

  public String getExtInfo() {
    return extInfo;
  }

  public TokenOptions setExtInfo(String extInfo) {
    this.extInfo = extInfo;
    return this;
  }
}
