export { RelayAPI, MAX_TOKEN_BYTES } from './relayapi.js';
export type {
  RelayAPIOptions,
  CreateTokenOptions,
  Token,
  Flavor,
  BaseURLOptions,
  GenerateURLOptions,
  OpenAIOptions,
  TokenUsage,
} from './relayapi.js';
export { RelayAPIError } from './errors.js';
export type { RelayAPIErrorCode, RelayAPIErrorOptions } from './errors.js';
export { validateClaims, isValidOrigin } from './claims.js';
export type { Claims } from './claims.js';
export { isIPOrCIDR } from './ip.js';
export type { RaiFile, RaiServer, AesCrypto, EccBackendCrypto, EcJWK } from './rai.js';
// The RelayAPI 1.x API, kept (deprecated) for migration: see docs/migrating-from-1.x.md.
// eslint-disable-next-line @typescript-eslint/no-deprecated
export { RelayAPIClient, TokenGenerator } from './legacy.js';
export type {
  LegacyConfig,
  LegacyTokenOptions,
  LegacyTokenInput,
  LegacyChatOptions,
  LegacyImageOptions,
  LegacyEmbeddingOptions,
  LegacyResponse,
} from './legacy.js';
