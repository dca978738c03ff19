/**
 * Pure refusals: the spec values that the nspawn driver declares as features but cannot honour in
 * this particular form. Runs in create before anything exists; every refusal names the JSON field.
 */
import type { Mount, Spec } from '../../core';
import { parseSysctlName, SpecInvalidError, type SpecIssue } from '../../core';
import { isApiMount, isBindMount, normalise, TMPFS_DATA_OPTION, TMPFS_FLAG_OPTIONS } from './nspawn-arguments';

/** Namespaces systemd-nspawn always creates: a spec that shares one of them with the host is refused. */
export const ALWAYS_UNSHARED = ['pid', 'mount', 'ipc', 'uts', 'cgroup'] as const;

export interface HostFacts {
  cgroupVersion: 1 | 2;
}

const BIND_OPTIONS = new Set(['bind', 'rbind', 'ro', 'rw']);
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

export function specIssues(spec: Spec, facts: HostFacts): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message: `${message} (driver "nspawn")` });

  const namespaces = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const type of ALWAYS_UNSHARED) {
    if (!namespaces.has(type)) add('linux.namespaces', `no ${type} namespace asked for, but systemd-nspawn always creates one`);
  }
  if (namespaces.has('user')) {
    const uid = spec.linux?.uidMappings ?? [];
    const gid = spec.linux?.gidMappings ?? [];
    if (uid.length !== 1 || uid[0]!.containerID !== 0) add('linux.uidMappings', 'systemd-nspawn takes exactly one uid range, starting at container id 0');
    else if (gid.length !== 1 || gid[0]!.containerID !== 0 || gid[0]!.hostID !== uid[0]!.hostID || gid[0]!.size !== uid[0]!.size) {
      add('linux.gidMappings', 'systemd-nspawn maps gids with the same single range as uids');
    }
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    const field = `linux.sysctl["${key}"]`;
    const name = parseSysctlName(key);
    if (!name) add(field, 'not a sysctl name');
    else if (!name.namespace) add(field, 'not a namespaced sysctl: it would change the host');
    else if (name.namespace === 'uts') add(field, 'set the spec\'s hostname instead (systemd-nspawn sets the container\'s hostname itself)');
    else if (name.namespace === 'network' && !namespaces.has('network')) add(field, 'a net.* sysctl needs a network namespace');
    else if (namespaces.has('user')) add(field, 'sysctls are not supported together with a user namespace (procfs cannot be mounted again there)');
    if (/[\n\0]/.test(value)) add(field, 'the value contains a newline or NUL');
  }
  const cgroupsPath = spec.linux?.cgroupsPath;
  if (cgroupsPath !== undefined && (cgroupsPath.includes(':') || cgroupsPath.split('/').some((p) => p === '..' || p === '.') || cgroupsPath.replace(/\//g, '') === '')) {
    add('linux.cgroupsPath', 'a cgroupfs path such as /berth/box1 (no systemd "slice:prefix:name" form: berth manages the cgroup, not systemd)');
  }
  if (spec.hostname && !HOSTNAME.test(spec.hostname)) add('hostname', `"${spec.hostname}" is not a hostname systemd-nspawn accepts`);
  if (!spec.process?.args || spec.process.args.length === 0) add('process.args', 'a command is required');

  (spec.mounts ?? []).forEach((m, i) => mountIssues(m, `mounts[${i}]`, add));

  const caps = spec.process?.capabilities;
  if (caps) {
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      (caps[set] ?? []).forEach((name, i) => {
        if (name === 'CAP_SYS_MODULE') add(`process.capabilities.${set}[${i}]`, 'systemd-nspawn never grants CAP_SYS_MODULE');
      });
    }
    const permitted = new Set(caps.permitted ?? []);
    const inheritable = new Set(caps.inheritable ?? []);
    (caps.effective ?? []).forEach((name, i) => {
      if (!permitted.has(name)) add(`process.capabilities.effective[${i}]`, `${name} is effective but not permitted`);
    });
    (caps.ambient ?? []).forEach((name, i) => {
      if (!permitted.has(name) || !inheritable.has(name)) add(`process.capabilities.ambient[${i}]`, `${name} is ambient but not both permitted and inheritable`);
    });
  }

  const resources = spec.linux?.resources;
  if (facts.cgroupVersion === 2 && (resources?.devices ?? []).length > 0) {
    add('linux.resources.devices', 'device rules need the cgroup v1 devices controller (cgroup v2 needs a BPF program berth does not load)');
  }
  for (const p of [...(spec.linux?.maskedPaths ?? []), ...(spec.linux?.readonlyPaths ?? [])]) {
    if (!p.startsWith('/')) add('linux.maskedPaths', `"${p}" is not absolute`);
  }
  return issues;
}

/** Throw a SpecInvalidError naming the first field nspawn cannot honour. */
export function assertNspawnCanHonour(spec: Spec, facts: HostFacts): void {
  const issues = specIssues(spec, facts);
  if (issues.length > 0) throw new SpecInvalidError(issues);
}

function mountIssues(m: Mount, field: string, add: (path: string, message: string) => void): void {
  const options = m.options ?? [];
  const dest = normalise(m.destination);
  if (!dest.startsWith('/')) return add(`${field}.destination`, `"${m.destination}" is not absolute`);
  if (dest.includes(':')) return add(`${field}.destination`, 'systemd-nspawn cannot mount at a path containing ":"');
  if (isApiMount(m)) {
    if (options.includes('ro') && m.type !== 'sysfs' && m.type !== 'cgroup' && m.type !== 'cgroup2') {
      add(`${field}.options`, `systemd-nspawn mounts its own ${m.type} on ${dest} read-write`);
    }
    return;
  }
  if (isBindMount(m)) {
    if (!m.source || !m.source.startsWith('/')) return add(`${field}.source`, 'a bind mount needs an absolute source');
    if (m.source.includes(':')) return add(`${field}.source`, 'systemd-nspawn cannot bind a path containing ":"');
    options.forEach((o, j) => {
      if (!BIND_OPTIONS.has(o)) add(`${field}.options[${j}]`, `"${o}" cannot be expressed with systemd-nspawn --bind (only bind, rbind, ro, rw)`);
    });
    return;
  }
  if (m.type === 'tmpfs') {
    options.forEach((o, j) => {
      if (!TMPFS_FLAG_OPTIONS.has(o) && !TMPFS_DATA_OPTION.test(o)) {
        add(`${field}.options[${j}]`, `"${o}" cannot be expressed with systemd-nspawn --tmpfs (size, mode, nr_inodes, uid, gid, ro, rw, [no]suid, [no]dev, [no]exec, strictatime)`);
      }
    });
    return;
  }
  if (['proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2'].includes(m.type ?? '')) {
    add(`${field}.destination`, `systemd-nspawn provides ${m.type} only at its usual place, not at ${dest}`);
  }
}
