/**
 * Starting berth-native: the plan goes in on fd 3, the result comes back on fd 4 ("O<pid>" when
 * the init is ready, "E<message>" on failure). `create` leaves the monitor running detached (its
 * own session, outliving the CLI); `exec` runs attached and exits with the process's status.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../../core/errors/berth-error';

export interface Stdio {
  stdin: number | 'ignore';
  stdout: number;
  stderr: number;
}

function failure(message: string): BerthError {
  if (/process\.args\[0\]|exec: /.test(message) && /No such file|Permission denied|ENOENT/.test(message)) {
    return new BerthError('COMMAND_NOT_FOUND', `native: ${message}`);
  }
  return new BerthError('BACKEND_FAILED', `native: ${message}`);
}

/** Everything until end of stream, or (with `line`) until the first newline. */
function readAll(stream: Readable, line = false): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d.toString();
      if (line && text.includes('\n')) resolve(text);
    });
    stream.on('error', () => resolve(text));
    stream.on('end', () => resolve(text));
    stream.on('close', () => resolve(text));
  });
}

/** Launch the monitor; resolves with its pid and the init's pid once the init waits for `start`. */
export async function launchMonitor(binary: string, plan: Buffer, stdio: Stdio): Promise<{ monitorPid: number; initPid: number }> {
  const options: StdioOptions = [stdio.stdin, stdio.stdout, stdio.stderr, 'pipe', 'pipe'];
  const child = spawn(binary, ['create'], { detached: true, stdio: options });
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => resolve(`cannot run ${binary}: ${err.message}`));
    child.on('exit', (code, signal) => resolve(`berth-native exited (${signal ?? code}) before the container was ready`));
  });
  const planPipe = child.stdio[3] as Writable;
  planPipe.on('error', () => undefined);
  planPipe.end(plan);
  const result = await readAll(child.stdio[4] as Readable, true);
  child.unref();
  (child.stdio[3] as Writable).destroy();
  (child.stdio[4] as Readable).destroy();
  if (result.startsWith('O')) {
    return { monitorPid: child.pid!, initPid: Number(result.slice(1).trim()) };
  }
  if (result.startsWith('E')) throw failure(result.slice(1));
  throw failure(await exited);
}

/** Run `berth-native exec`; resolves with its exit status. */
export async function runExec(binary: string, plan: Buffer, stdio: Stdio): Promise<{ exitCode: number; signal?: NodeJS.Signals }> {
  const child = spawn(binary, ['exec'], { stdio: [stdio.stdin, stdio.stdout, stdio.stderr, 'pipe', 'pipe'] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const planPipe = child.stdio[3] as Writable;
  planPipe.on('error', () => undefined);
  planPipe.end(plan);
  const [result, status] = await Promise.all([readAll(child.stdio[4] as Readable), exit]);
  if (status.error) throw failure(`cannot run ${binary}: ${status.error.message}`);
  if (result.startsWith('E')) throw failure(result.slice(1));
  if (status.signal) return { exitCode: 255, signal: status.signal };
  return { exitCode: status.code ?? 255 };
}
