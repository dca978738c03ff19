/**
 * OCI `linux.sysctl` names, read as sysctl(8) reads them, and which namespace each belongs to.
 *
 * A name is dotted (`net.ipv4.ip_forward`) or a path (`net/ipv4/ip_forward`); whichever separator
 * comes first decides. In a dotted name a `/` stands for a dot inside one component, so the VLAN
 * interface eth0.100 is `net.ipv4.conf.eth0/100.forwarding`; in a path, dots are plain characters
 * (`net/ipv4/conf/eth0.100/forwarding`). Both mean /proc/sys/net/ipv4/conf/eth0.100/forwarding.
 * Every driver writes the path this gives, and decides whether a sysctl may be set from the
 * namespace this gives: one reading for all, so no driver writes another file than the next.
 */
export type SysctlNamespace = 'ipc' | 'network' | 'uts';

export interface SysctlName {
  /** The path below /proc/sys, `/`-separated. */
  path: string;
  /** The namespace that makes the sysctl the container's own; undefined: it is the host's. */
  namespace?: SysctlNamespace;
}

/** IPC namespace sysctls (as runc's list), besides everything below fs/mqueue. */
const IPC_SYSCTLS = new Set(['kernel/msgmax', 'kernel/msgmnb', 'kernel/msgmni', 'kernel/sem', 'kernel/shmall', 'kernel/shmmax', 'kernel/shmmni', 'kernel/shm_rmid_forced']);
const UTS_SYSCTLS = new Set(['kernel/hostname', 'kernel/domainname']);
const COMPONENT = /^[A-Za-z0-9_.:@+-]+$/;

/** The path below /proc/sys that `key` names, or undefined when it names none (empty parts, `..`, odd characters). */
export function sysctlPath(key: string): string | undefined {
  const dot = key.indexOf('.');
  const slash = key.indexOf('/');
  const dotted = dot >= 0 && (slash < 0 || dot < slash);
  const path = dotted ? key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.')) : key;
  const parts = path.split('/');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..' || !COMPONENT.test(p))) return undefined;
  return path;
}

/**
 * The dotted spelling of `key` (`/` inside a component where the path has a dot), for tools that
 * take only dotted names; undefined when `key` is not a sysctl name.
 */
export function dottedSysctlName(key: string): string | undefined {
  return sysctlPath(key)?.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** The namespace a /proc/sys path belongs to (see SysctlName.namespace). */
export function sysctlNamespace(path: string): SysctlNamespace | undefined {
  if (path.startsWith('net/')) return 'network';
  if (IPC_SYSCTLS.has(path) || path.startsWith('fs/mqueue/')) return 'ipc';
  if (UTS_SYSCTLS.has(path)) return 'uts';
  return undefined;
}

/** `key` read as sysctl(8) does: its path and namespace, or undefined when it is not a sysctl name. */
export function parseSysctlName(key: string): SysctlName | undefined {
  const path = sysctlPath(key);
  if (path === undefined) return undefined;
  const namespace = sysctlNamespace(path);
  return namespace ? { path, namespace } : { path };
}
