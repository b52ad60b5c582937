package io.github.relayapi;

/**
 * The relay's answer to {@code POST /admin/tokens/{jti}/revoke}.
 *
 * @param jti the token id
 * @param revoked always {@code true}
 */
public record Revocation(String jti, boolean revoked) {}
