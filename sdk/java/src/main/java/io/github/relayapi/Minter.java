package io.github.relayapi;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.nimbusds.jose.crypto.ECDHEncrypter;
import com.nimbusds.jose.crypto.ECDSASigner;
import javax.crypto.spec.SecretKeySpec;

/**
 * JOSE encoding of tokens (docs/token-format.md §5) with nimbus-jose-jwt: {@code aes} is a JWE
 * {@code dir} + {@code A256GCM}; {@code ecc} is a JWS {@code ES256} nested in a JWE {@code ECDH-ES}
 * + {@code A256GCM} with {@code cty: JWT}. The nimbus encrypters and signers are thread-safe, so
 * one instance serves every thread.
 */
final class Minter {
  private final String kid;
  private final JWEHeader header;
  private final DirectEncrypter direct;
  private final JWSHeader jwsHeader;
  private final ECDSASigner signer;
  private final ECDHEncrypter ecdh;

  Minter(KeyFile keys) {
    try {
      if (keys.method.equals("aes")) {
        kid = keys.aesKid;
        header = new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.A256GCM).keyID(kid).build();
        direct = new DirectEncrypter(new SecretKeySpec(keys.aesKey, "AES"));
        jwsHeader = null;
        signer = null;
        ecdh = null;
      } else {
        kid = keys.relayKid;
        header =
            new JWEHeader.Builder(JWEAlgorithm.ECDH_ES, EncryptionMethod.A256GCM)
                .contentType("JWT")
                .keyID(keys.relayKid)
                .build();
        jwsHeader =
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keys.signerKid).type(JOSEObjectType.JWT).build();
        signer = new ECDSASigner(keys.signer);
        ecdh = new ECDHEncrypter(keys.relayPublic);
        direct = null;
      }
    } catch (JOSEException e) {
      throw new InvalidConfigException("cannot use the key of the .rai file: " + e.getMessage(), e);
    }
  }

  /** The {@code kid} of the outer JWE header. */
  String kid() {
    return kid;
  }

  /** Encrypts (and for {@code ecc} signs) an already validated claims JSON. */
  String mint(byte[] claimsJson) {
    try {
      if (direct != null) {
        JWEObject jwe = new JWEObject(header, new Payload(claimsJson));
        jwe.encrypt(direct);
        return jwe.serialize();
      }
      JWSObject jws = new JWSObject(jwsHeader, new Payload(claimsJson));
      jws.sign(signer);
      JWEObject jwe = new JWEObject(header, new Payload(jws.serialize()));
      jwe.encrypt(ecdh);
      return jwe.serialize();
    } catch (JOSEException e) {
      throw new RelayAPIException("internal_error", "token encryption failed: " + e.getMessage(), 0, e);
    }
  }
}
