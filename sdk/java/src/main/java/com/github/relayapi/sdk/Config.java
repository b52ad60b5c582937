package com.github.relayapi.sdk;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A RelayAPI 1.x {@code .rai} key file as a Jackson bean (RelayAPI 1.x Java API):
 *
 * <pre>{@code
 * Config config = new ObjectMapper().readValue(Files.readString(Paths.get("config.rai")), Config.class);
 * }</pre>
 *
 * <p>1.x files load unchanged ({@code "host": "http://localhost"}, {@code "base_path":
 * "/relayapi/"}, {@code aes_iv_seed} ignored with one warning); fields this class does not name
 * ({@code scheme}, {@code key_id}, the {@code ecc} keys) are kept, so a current key file works too.
 *
 * @deprecated Use {@link io.github.relayapi.RelayAPI#fromFile(java.nio.file.Path)}: it reads the
 *     key file itself.
 */
@Deprecated
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Config {
  private String version;
  private ServerConfig server;
  private CryptoConfig crypto;
  private final Map<String, Object> other = new LinkedHashMap<>();

  public String getVersion() {
    return version;
  }

  public void setVersion(String version) {
    this.version = version;
  }

  public ServerConfig getServer() {
    return server;
  }

  public void setServer(ServerConfig server) {
    this.server = server;
  }

  public CryptoConfig getCrypto() {
    return crypto;
  }

  public void setCrypto(CryptoConfig crypto) {
    this.crypto = crypto;
  }

  /** Fields of the file this class does not name (kept as read). */
  @JsonAnyGetter
  public Map<String, Object> getOtherFields() {
    return other;
  }

  /** Keeps a field this class does not name. */
  @JsonAnySetter
  public void setOtherField(String name, Object value) {
    other.put(name, value);
  }

  /**
   * The {@code server} section: where the relay is reachable.
   *
   * @deprecated Part of the 1.x API; see {@link Config}.
   */
  @Deprecated
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ServerConfig {
    private String host;
    private int port;

    @JsonProperty("base_path")
    private String basePath;

    private final Map<String, Object> other = new LinkedHashMap<>();

    public String getHost() {
      return host;
    }

    public void setHost(String host) {
      this.host = host;
    }

    public int getPort() {
      return port;
    }

    public void setPort(int port) {
      this.port = port;
    }

    public String getBasePath() {
      return basePath;
    }

    public void setBasePath(String basePath) {
      this.basePath = basePath;
    }

    /** Fields of the section this class does not name ({@code scheme}, …). */
    @JsonAnyGetter
    public Map<String, Object> getOtherFields() {
      return other;
    }

    /** Keeps a field this class does not name. */
    @JsonAnySetter
    public void setOtherField(String name, Object value) {
      other.put(name, value);
    }
  }

  /**
   * The {@code crypto} section: the key.
   *
   * @deprecated Part of the 1.x API; see {@link Config}.
   */
  @Deprecated
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CryptoConfig {
    private String method;

    @JsonProperty("aes_key")
    private String aesKey;

    @JsonProperty("aes_iv_seed")
    private String aesIvSeed;

    private final Map<String, Object> other = new LinkedHashMap<>();

    public String getMethod() {
      return method;
    }

    public void setMethod(String method) {
      this.method = method;
    }

    public String getAesKey() {
      return aesKey;
    }

    public void setAesKey(String aesKey) {
      this.aesKey = aesKey;
    }

    /** Read for compatibility and ignored: every token gets a random IV. */
    public String getAesIvSeed() {
      return aesIvSeed;
    }

    public void setAesIvSeed(String aesIvSeed) {
      this.aesIvSeed = aesIvSeed;
    }

    /** Fields of the section this class does not name ({@code key_id}, the {@code ecc} keys…). */
    @JsonAnyGetter
    public Map<String, Object> getOtherFields() {
      return other;
    }

    /** Keeps a field this class does not name. */
    @JsonAnySetter
    public void setOtherField(String name, Object value) {
      other.put(name, value);
    }
  }
}
