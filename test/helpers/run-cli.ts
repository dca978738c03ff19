import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const CLI = path.join(__dirname, '../../dist/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (`npm run build` first; `npm test` does). */
export function berth(args: string[], options: { root: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): CliResult {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const r = spawnSync(process.execPath, [CLI, '--root', options.root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_DRIVER: '', BERTH_CONFIG: '', ...options.env },
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 60000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
