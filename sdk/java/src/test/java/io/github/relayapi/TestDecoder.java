package io.github.relayapi;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.DirectDecrypter;
import com.nimbusds.jose.crypto.ECDHDecrypter;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.spec.SecretKeySpec;

/**
 * Test-only token decoder (what a relay does), docs/token-format.md §6, on nimbus-jose-jwt. It
 * decodes with relay-side key files: an {@code aes} file, or an {@code ecc} relay file.
 */
final class TestDecoder {
  /** A rejected token: {@code code} is invalid_token, token_expired or token_not_yet_valid. */
  static final class DecodeError extends Exception {
    private static final long serialVersionUID = 1L;
    final String code;
    final String reason;

    DecodeError(String code, String reason) {
      super(code + ": " + reason);
      this.code = code;
      this.reason = reason;
    }
  }

  private static final Pattern B64URL_PART = Pattern.compile("[A-Za-z0-9_-]*");

  private TestDecoder() {}

  private static DecodeError invalid(String reason) {
    return new DecodeError("invalid_token", reason);
  }

  /** Decodes {@code token} at Unix time {@code now} with {@code leeway} seconds of skew. */
  static Map<String, Object> decode(String token, List<KeyFile> keys, long now, long leeway) throws DecodeError {
    Map<String, Object> claims = open(token, keys);
    long exp = ((Number) claims.get("exp")).longValue();
    if (now > exp + leeway) {
      throw new DecodeError("token_expired", "");
    }
    Object nbf = claims.get("nbf");
    if (nbf != null && ((Number) nbf).longValue() != 0 && now + leeway < ((Number) nbf).longValue()) {
      throw new DecodeError("token_not_yet_valid", "");
    }
    return claims;
  }

  /** Steps 1–6: decrypt, authenticate, validate the claims (no clock). */
  static Map<String, Object> open(String token, List<KeyFile> keys) throws DecodeError {
    if (token == null) {
      throw invalid("no token");
    }
    if (token.getBytes(StandardCharsets.UTF_8).length > RelayAPI.MAX_TOKEN_BYTES) {
      throw invalid("token too large");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 5) {
      throw invalid("not a compact JWE");
    }
    for (String p : parts) {
      if (!B64URL_PART.matcher(p).matches()) {
        throw invalid("not a compact JWE");
      }
    }
    Map<String, Object> header;
    try {
      header = Json.MAPPER.readValue(Base64.getUrlDecoder().decode(parts[0]), new TypeReference<Map<String, Object>>() {});
    } catch (Exception e) {
      throw invalid("malformed protected header");
    }
    Object alg = header.get("alg");
    Object enc = header.get("enc");
    Object kid = header.get("kid");
    if (!"A256GCM".equals(enc) || !("dir".equals(alg) || "ECDH-ES".equals(alg))) {
      throw invalid("algorithm not allowed");
    }
    if (!(kid instanceof String)) {
      throw invalid("missing kid");
    }
    byte[] payload;
    if ("dir".equals(alg)) {
      KeyFile key = keys.stream().filter(k -> k.aesKey != null && k.aesKid.equals(kid)).findFirst().orElse(null);
      if (key == null) {
        throw invalid("unknown aes kid");
      }
      try {
        JWEObject jwe = JWEObject.parse(token);
        if (!jwe.getHeader().getAlgorithm().equals(JWEAlgorithm.DIR)
            || !jwe.getHeader().getEncryptionMethod().equals(EncryptionMethod.A256GCM)) {
          throw invalid("algorithm not allowed");
        }
        jwe.decrypt(new DirectDecrypter(new SecretKeySpec(key.aesKey, "AES")));
        payload = jwe.getPayload().toBytes();
      } catch (DecodeError e) {
        throw e;
      } catch (Exception e) {
        throw invalid("aes decryption failed");
      }
    } else {
      KeyFile key =
          keys.stream().filter(k -> k.relayPrivate != null && k.relayKid.equals(kid)).findFirst().orElse(null);
      if (key == null) {
        throw invalid("unknown ecc kid");
      }
      Object cty = header.get("cty");
      if (!(cty instanceof String) || !((String) cty).equalsIgnoreCase("jwt")) {
        throw invalid("ecc token without cty JWT");
      }
      String inner;
      try {
        JWEObject jwe = JWEObject.parse(token);
        if (!jwe.getHeader().getAlgorithm().equals(JWEAlgorithm.ECDH_ES)
            || !jwe.getHeader().getEncryptionMethod().equals(EncryptionMethod.A256GCM)) {
          throw invalid("algorithm not allowed");
        }
        jwe.decrypt(new ECDHDecrypter(key.relayPrivate));
        inner = new String(jwe.getPayload().toBytes(), StandardCharsets.US_ASCII);
      } catch (DecodeError e) {
        throw e;
      } catch (Exception e) {
        throw invalid("ecc decryption failed");
      }
      JWSObject jws;
      try {
        String[] jp = inner.split("\\.", -1);
        if (jp.length != 3) {
          throw new IllegalArgumentException("not a compact JWS");
        }
        jws = JWSObject.parse(inner);
        if (!JWSAlgorithm.ES256.equals(jws.getHeader().getAlgorithm())) {
          throw new IllegalArgumentException("inner JWS alg must be ES256");
        }
      } catch (Exception e) {
        throw invalid("malformed inner JWS");
      }
      ECKey signer = key.signers.get(jws.getHeader().getKeyID());
      if (signer == null) {
        throw invalid("untrusted signer");
      }
      try {
        if (!jws.verify(new ECDSAVerifier(signer))) {
          throw invalid("bad signature");
        }
      } catch (DecodeError e) {
        throw e;
      } catch (Exception e) {
        throw invalid("bad signature");
      }
      payload = jws.getPayload().toBytes();
    }
    Object claims;
    try {
      claims = Json.MAPPER.readValue(payload, Object.class);
    } catch (Exception e) {
      throw invalid("claims are not JSON");
    }
    try {
      ClaimRules.validate(claims);
    } catch (ClaimRules.ClaimError e) {
      throw invalid("claims rejected: " + e.getMessage());
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) claims;
    return map;
  }
}
