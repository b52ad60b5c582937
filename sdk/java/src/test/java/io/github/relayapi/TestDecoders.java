package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** The test decoder for tests outside this package (the 1.x wrappers'). */
public final class TestDecoders {
  private TestDecoders() {}

  /** Opens a token with a relay key file (path), checking everything but the clock. */
  public static Map<String, Object> open(String token, Path relayRai) throws Exception {
    return TestDecoder.open(token, List.of(Fixtures.relayKeys(relayRai)));
  }

  /** Opens a token with a relay key file (JSON). */
  public static Map<String, Object> open(String token, String relayRaiJson) throws Exception {
    return TestDecoder.open(token, List.of(Fixtures.relayKeysJson(relayRaiJson)));
  }

  /** The token's protected header. */
  public static JsonNode header(String token) {
    return Fixtures.readJsonBytes(Base64.getUrlDecoder().decode(token.split("\\.")[0]));
  }
}
