import { spawn } from 'node:child_process';
import { BackendCommandError } from '../errors/backend-command-error';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Do not throw on a non-zero exit; the caller inspects exitCode. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Run a backend tool with an argument array (never a shell string) and collect its output. */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new BackendCommandError(argv, null, e.message));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { exitCode: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (signal) result.stderr += `\nkilled by ${signal}`;
      if (result.exitCode !== 0 && !options.allowFailure) reject(new BackendCommandError(argv, result.exitCode, result.stderr));
      else resolve(result);
    });
    // A tool that exits without reading its stdin must not turn into an EPIPE error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
