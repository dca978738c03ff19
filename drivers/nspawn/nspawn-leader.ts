/**
 * Finding the container's leader (its PID 1) from the host without machined: systemd-nspawn's
 * inner child is a direct child of the nspawn process living in a new pid namespace. It is
 * "ready" once it has exec'd the user's command (no longer nspawn's own code, nor the helper).
 */
import * as fs from 'node:fs';
import { INIT_IN_CONTAINER } from './nspawn-arguments';

export function leaderPid(nspawnPid: number): number | undefined {
  let children: string;
  try {
    children = fs.readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8');
  } catch {
    return undefined;
  }
  const own = nsOf(nspawnPid, 'pid');
  for (const text of children.trim().split(/\s+/)) {
    const pid = Number(text);
    if (!pid) continue;
    const ns = nsOf(pid, 'pid');
    if (ns !== undefined && ns !== own) return pid;
  }
  return undefined;
}

/** The leader once it runs the user's command, or undefined. */
export function readyLeader(nspawnPid: number): number | undefined {
  const pid = leaderPid(nspawnPid);
  return pid !== undefined && isUserCommand(pid) ? pid : undefined;
}

/** Whether the leader `pid` has exec'd the user's command (no longer nspawn's code nor the helper). */
export function isUserCommand(pid: number): boolean {
  let exe: string;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return false;
  }
  return !(exe.endsWith('systemd-nspawn') || exe === INIT_IN_CONTAINER);
}

function nsOf(pid: number, type: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return undefined;
  }
}
