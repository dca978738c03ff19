/**
 * The files an LXC container keeps in its state folder, and their readers.
 *
 * `state` is berth's record of the container's life, one line per event, appended (O_APPEND, one
 * write per line) by whoever sees the event; a line counts once it is complete:
 *   `init INIT GATE`  berth-lxc-helper's start gate: the init's host pid and the gate's own pid
 *   `started`         berth start
 *   `exit CODE`       the container's exit status: berth-lxc-helper's supervisor (lxc-execute's
 *                     status), or berth when it ends a created container; the first one counts
 * One file appended to rather than a file per event: creating a file (a new inode) costs ~0.7 ms on
 * the ext4 state folders of the project's machines, appending ~10 µs, and these events are on the
 * path from create to exit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const STATE_FILES = {
  config: 'lxc.conf',
  log: 'lxc.log',
  hookError: 'hook.err',
  state: 'state',
} as const;

export function stateFile(dir: string, name: keyof typeof STATE_FILES): string {
  return path.join(dir, STATE_FILES[name]);
}

export interface LxcStateRecord {
  /** The init's host pid and the start gate's pid, once the container is set up. */
  init?: { initPid: number; gatePid: number };
  started: boolean;
  exitCode?: number;
}

/** The record in `dir` (an absent file: nothing happened yet). */
export function readState(dir: string): LxcStateRecord {
  let text: string;
  try {
    text = fs.readFileSync(stateFile(dir, 'state'), 'utf8');
  } catch {
    return { started: false };
  }
  return parseState(text);
}

export function parseState(text: string): LxcStateRecord {
  const record: LxcStateRecord = { started: false };
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^init (\d+) (\d+)$/.exec(line)) && !record.init) record.init = { initPid: Number(m[1]), gatePid: Number(m[2]) };
    else if (line === 'started') record.started = true;
    else if ((m = /^exit (\d+)$/.exec(line)) && record.exitCode === undefined) record.exitCode = Number(m[1]);
  }
  return record;
}

/** Append one event line (see above). */
export function appendState(dir: string, line: string): void {
  fs.appendFileSync(stateFile(dir, 'state'), `${line}\n`);
}
