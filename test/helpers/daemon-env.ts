/**
 * jest setup file: the test daemons (scripts/daemons/<name>.sh) publish how to reach them as
 * KEY=VALUE lines in /run/berth-test/<name>.env (dockerd.sh: DOCKER_HOST=unix:///run/berth-test/docker.sock).
 * Loading them here points drivers that follow the standard variables (docker: DOCKER_HOST) at the
 * test daemons, for `npm test` and a plain `npx jest` alike, while drivers.json keeps user defaults.
 * Set BERTH_TEST_DAEMON_ENV=off to keep the environment as it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DAEMON_ENV_DIR = '/run/berth-test';

export function loadDaemonEnv(dir: string = DAEMON_ENV_DIR, env: NodeJS.ProcessEnv = process.env): void {
  if (env.BERTH_TEST_DAEMON_ENV === 'off') return;
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.env')).sort();
  } catch {
    return;
  }
  for (const file of files) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m) env[m[1]!] = m[2]!;
    }
  }
}

loadDaemonEnv();
