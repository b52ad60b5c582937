/**
 * Error codes raised by the SDK itself. Errors returned by the relay's admin
 * API keep the relay's own `code` (for example `invalid_token` or
 * `unauthorized`), so `code` is typed as a plain string.
 */
export type RelayAPIErrorCode =
  | 'invalid_argument'
  | 'invalid_config'
  | 'token_too_large'
  | 'missing_admin_key'
  | 'missing_dependency'
  | 'network_error'
  | 'http_error'
  | (string & {});

export interface RelayAPIErrorOptions {
  /** HTTP status, for errors answered by the relay. */
  status?: number;
  /** The relay's error `type`, when it sent one. */
  type?: string;
  /** The option or claim at fault, for `invalid_argument`. */
  param?: string;
  cause?: unknown;
}

/** The one error class the SDK throws. Check `code` (and `status` for HTTP errors). */
export class RelayAPIError extends Error {
  readonly code: RelayAPIErrorCode;
  readonly status?: number;
  readonly type?: string;
  readonly param?: string;

  constructor(code: RelayAPIErrorCode, message: string, options: RelayAPIErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayAPIError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.type !== undefined) this.type = options.type;
    if (options.param !== undefined) this.param = options.param;
  }
}

export function invalidArgument(param: string, message: string): RelayAPIError {
  return new RelayAPIError('invalid_argument', `${param}: ${message}`, { param });
}

export function invalidConfig(message: string, cause?: unknown): RelayAPIError {
  return new RelayAPIError('invalid_config', `invalid .rai config: ${message}`, { cause });
}
