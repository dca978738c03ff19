/**
 * OCI hooks run from the host side, each with the container's state JSON on stdin, its own argv
 * and environment (exactly as given), and its timeout. The LXC driver runs `createRuntime` and
 * `prestart` in create (the gate holds the set-up container, so the process has not run yet),
 * `poststart` in start, `poststop` in delete.
 */
import { spawn } from 'node:child_process';
import type { Hook, OciState } from '../../core';

export interface HookFailure {
  index: number;
  message: string;
}

function runHook(hook: Hook, state: OciState): Promise<string | undefined> {
  return new Promise((resolve) => {
    const [argv0, ...rest] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(hook.path, rest, { argv0, env, stdio: ['pipe', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = hook.timeout ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, hook.timeout * 1000) : undefined;
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve(`${hook.path}: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = Buffer.concat(err).toString().trim().split('\n').pop() ?? '';
      if (timedOut) resolve(`${hook.path}: timed out after ${hook.timeout} s`);
      else if (code !== 0) resolve(`${hook.path}: ${signal ? `killed by ${signal}` : `exit ${code}`}${stderr ? `: ${stderr}` : ''}`);
      else resolve(undefined);
    });
    child.stdin.end(JSON.stringify(state));
  });
}

/** Run `hooks` in order; stop at the first failure when `stopOnFailure` (create-time hooks), else run them all. */
export async function runHooks(hooks: readonly Hook[] | undefined, state: OciState, stopOnFailure: boolean): Promise<HookFailure[]> {
  const failures: HookFailure[] = [];
  for (const [index, hook] of (hooks ?? []).entries()) {
    const message = await runHook(hook, state);
    if (message) {
      failures.push({ index, message });
      if (stopOnFailure) break;
    }
  }
  return failures;
}
