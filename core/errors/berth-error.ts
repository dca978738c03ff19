/**
 * berth's error model: one base class with a stable string `code`; subclasses only where they
 * carry data. The CLI maps codes to exit codes in one place (cli/exit-codes.ts).
 */

export type ErrorCode =
  | 'SPEC_INVALID'
  | 'BUNDLE_INVALID'
  | 'DRIVER_UNKNOWN'
  | 'DRIVER_UNAVAILABLE'
  | 'DRIVER_LOAD_FAILED'
  | 'DRIVERS_CONFIG_INVALID'
  | 'FEATURE_NOT_SUPPORTED'
  | 'OPERATION_NOT_SUPPORTED'
  | 'CONTAINER_EXISTS'
  | 'CONTAINER_NOT_FOUND'
  | 'CONTAINER_STATE'
  | 'CONTAINER_ID_INVALID'
  | 'STATE_CORRUPT'
  | 'LOCK_TIMEOUT'
  | 'BACKEND_FAILED'
  | 'COMMAND_NOT_FOUND'
  | 'COMMAND_NOT_EXECUTABLE'
  | 'INVALID_ARGUMENT'
  | 'NETWORK_NOT_FOUND'
  | 'NETWORK_EXISTS'
  | 'NETWORK_IN_USE'
  | 'NETWORK_CONFIG_INVALID'
  | 'NETWORK_PLUGIN_FAILED'
  | 'INTERNAL';

export class BerthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a BerthError with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof BerthError && err.code === code;
}
