import { BerthError } from './berth-error';

/** A backend tool (lxc-start, virsh, systemd-nspawn...) that failed; keeps its argv and output. */
export class BackendCommandError extends BerthError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, summary?: string) {
    const tool = argv[0] ?? 'backend';
    const detail = stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${exitCode}`;
    super('BACKEND_FAILED', summary ? `${summary}: ${detail}` : `${tool} failed: ${detail}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
