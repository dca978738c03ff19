import { BerthError, type ErrorCode } from '../../core';

/** What dockerode throws: docker-modem's error with the HTTP status and the engine's JSON. */
export interface DockerApiError extends Error {
  statusCode?: number;
  json?: { message?: string } | string | null;
  code?: string;
}

export function statusOf(err: unknown): number | undefined {
  return (err as DockerApiError | undefined)?.statusCode;
}

/** The engine's own message, or the transport's. */
export function engineMessage(err: unknown): string {
  const e = err as DockerApiError;
  const json = e?.json;
  const message = typeof json === 'object' && json?.message ? json.message : typeof json === 'string' && json ? json : e?.message;
  return String(message ?? err).trim();
}

/** A failed engine call as a BerthError with a stable code: 404 not found, 409 wrong state, else backend failure. */
export function dockerError(err: unknown, what: string): BerthError {
  if (err instanceof BerthError) return err;
  const status = statusOf(err);
  const message = engineMessage(err);
  let code: ErrorCode = 'BACKEND_FAILED';
  if (status === 404) code = 'CONTAINER_NOT_FOUND';
  else if (status === 409) code = 'CONTAINER_STATE';
  else if (/executable file not found|no such file or directory/i.test(message) && /exec|start/i.test(what)) code = 'COMMAND_NOT_FOUND';
  else if (/permission denied/i.test(message) && /exec|start/i.test(what)) code = 'COMMAND_NOT_EXECUTABLE';
  return new BerthError(code, `docker ${what}: ${message}`, { cause: err });
}
