import { spawn } from 'node:child_process';
import { LxcCommandError } from './lxc-error';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run one LXC tool with an argument array (never a shell) and collect its output; non-zero exit throws. */
export function runTool(argv: readonly string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new LxcCommandError(argv, null, e.message));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { exitCode: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (signal) result.stderr += `\nkilled by ${signal}`;
      if (result.exitCode !== 0 && !options.allowFailure) reject(new LxcCommandError(argv, result.exitCode, result.stderr));
      else resolve(result);
    });
  });
}
