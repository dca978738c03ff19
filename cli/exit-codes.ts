import { BerthError, type ErrorCode } from '../core/errors/berth-error';

/** Exit code when berth itself failed in `run`/`create`/`exec`/`compare` (docker's convention). */
export const EXIT_BERTH_FAILED = 125;
/** Exit code when another command fails (runc's convention). */
export const EXIT_FAILURE = 1;

const RUN_LIKE_CODES: Partial<Record<ErrorCode, number>> = {
  COMMAND_NOT_EXECUTABLE: 126,
  COMMAND_NOT_FOUND: 127,
};

/** The exit code for an error raised by a command; `runLike` commands use docker's 125/126/127. */
export function exitCodeFor(err: unknown, runLike: boolean): number {
  if (!runLike) return EXIT_FAILURE;
  if (err instanceof BerthError) return RUN_LIKE_CODES[err.code] ?? EXIT_BERTH_FAILED;
  return EXIT_BERTH_FAILED;
}

/** One line for stderr: `berth: <code>: <message>` keeps the stable code visible to scripts. */
export function errorLine(err: unknown): string {
  if (err instanceof BerthError) return `berth: ${err.message} [${err.code}]`;
  return `berth: ${(err as Error)?.message ?? String(err)} [INTERNAL]`;
}
