/** OCI hooks, run by the runtime with the container's state JSON on stdin and an optional timeout. */
import { spawn } from 'node:child_process';
import type { Hook, OciState } from '../../core/spec/oci-spec';
import { BerthError } from '../../core/errors/berth-error';

export function runHook(hook: Hook, state: OciState, which: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(hook.path, args.slice(1), { argv0: args[0], env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout) timer = setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new BerthError('BACKEND_FAILED', `hooks.${which} ${hook.path}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new BerthError('BACKEND_FAILED', `hooks.${which} ${hook.path} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin.end(JSON.stringify(state));
  });
}

export async function runHooks(hooks: Hook[] | undefined, state: OciState, which: string): Promise<void> {
  for (const hook of hooks ?? []) await runHook(hook, state, which);
}
