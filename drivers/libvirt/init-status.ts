/**
 * berth-lxc-init's status file (stateDir/status, appended through an fd libvirt passed to it):
 * `ready` once the container is set up and waiting for start, `started PID` (PID inside the
 * container) when the user's process runs, `exit CODE` when it ended (128+N for signal N).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface InitStatus {
  ready: boolean;
  /** The user's process pid inside the container's pid namespace. */
  startedPid?: number;
  exitCode?: number;
}

export function statusFile(stateDir: string): string {
  return path.join(stateDir, 'status');
}

export function parseInitStatus(text: string): InitStatus {
  const status: InitStatus = { ready: false };
  for (const line of text.split('\n')) {
    const [word, value] = line.trim().split(/\s+/);
    if (word === 'ready') status.ready = true;
    else if (word === 'started' && value) status.startedPid = Number(value);
    else if (word === 'exit' && value) status.exitCode = Number(value);
  }
  return status;
}

export function readInitStatus(stateDir: string): InitStatus {
  try {
    return parseInitStatus(fs.readFileSync(statusFile(stateDir), 'utf8'));
  } catch {
    return { ready: false };
  }
}
