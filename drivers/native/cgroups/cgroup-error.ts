import { BerthError } from '../../../core/errors/berth-error';

/** A cgroupfs file that could not be written or read; keeps the file and the value. */
export class CgroupError extends BerthError {
  readonly file: string;
  readonly value: string | undefined;

  constructor(file: string, value: string | undefined, cause: unknown, what?: string) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    const action = value === undefined ? `reading ${file}` : `writing "${value}" to ${file}`;
    super('BACKEND_FAILED', `cgroup: ${what ? `${what}: ` : ''}${action}: ${errno}`, { cause });
    this.file = file;
    this.value = value;
  }
}
