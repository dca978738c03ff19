/**
 * OCI hooks run in the runtime's namespaces: the hook's path with its args (args[0] as argv[0]),
 * exactly its env, the container's state JSON on stdin, killed after `timeout` seconds.
 */
import { spawn } from 'node:child_process';
import { BerthError, type Hook, type OciState } from '../../core';

export async function runHook(hook: Hook, state: OciState): Promise<void> {
  const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const args = hook.args ?? [hook.path];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(hook.path, args.slice(1), { argv0: args[0] ?? hook.path, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = hook.timeout ? setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000) : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new BerthError('BACKEND_FAILED', `hook ${hook.path}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new BerthError('BACKEND_FAILED', `hook ${hook.path} failed (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
    child.stdin.on('error', () => undefined); // a hook that does not read its stdin
    child.stdin.end(JSON.stringify(state));
  });
}

/** Run `hooks` in order; the first failure throws (prestart, createRuntime). */
export async function runHooks(hooks: readonly Hook[] | undefined, state: OciState): Promise<void> {
  for (const hook of hooks ?? []) await runHook(hook, state);
}

/** Run every hook; failures are warnings, as OCI asks for poststart and poststop. */
export async function runHooksWarning(hooks: readonly Hook[] | undefined, state: OciState): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(hook, state);
    } catch (err) {
      process.emitWarning((err as Error).message, 'BerthHookWarning');
    }
  }
}
