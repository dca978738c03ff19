/**
 * Host-side views of a libvirt LXC container's processes, read from /proc: the init that libvirt's
 * controller started, the user's process under it, and every process of the container.
 */
import * as fs from 'node:fs';

/** Direct children of `pid` (needs CONFIG_PROC_CHILDREN, as on every distribution kernel). */
export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The pid chain of `pid` across nested pid namespaces (`NSpid:` in /proc/PID/status). */
export function nsPids(pid: number): number[] {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
    return line ? line.slice(6).trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** Host pid of the child of `initPid` whose pid inside the container is `innerPid`. */
export function hostPidOf(initPid: number, innerPid: number): number | undefined {
  return childrenOf(initPid).find((c) => nsPids(c).at(-1) === innerPid);
}

function pidNamespace(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Every host process in the pid namespace of `initPid`, the init included. */
export function processesOf(initPid: number): number[] {
  const ns = pidNamespace(initPid);
  if (!ns) return [];
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pidNamespace(pid) === ns) out.push(pid);
  }
  return out;
}
