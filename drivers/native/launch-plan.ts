/**
 * The native driver's pure translation: an OCI spec in, a launch plan out, with every path
 * resolved, every mount's flags, the capability bitmasks, rlimits, sysctls, id maps and the
 * seccomp program computed up front, so berth-native only executes it. Anything the plan cannot
 * honour is refused here, before anything exists, naming the JSON field.
 */
import * as path from 'node:path';
import type { Capabilities, Hook, Mount, NamespaceType, Seccomp, Spec } from '../../core/spec/oci-spec';
import { OCI_VERSION } from '../../core/spec/default-spec';
import { capabilityNumber } from '../../core/spec/capabilities';
import { RLIMITS } from '../../core/spec/rlimits';
import { parseSysctlName } from '../../core/spec/sysctl-names';
import { SpecInvalidError } from '../../core/errors/spec-invalid-error';
import { MS, parseMountOptions, propagationFlags } from './mount-options';
import { PlanWriter } from './plan-encoding';
import { seccompFilterFlags } from './seccomp/seccomp-flags';

export const CLONE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  mount: 0x00020000, cgroup: 0x02000000, uts: 0x04000000, ipc: 0x08000000,
  user: 0x10000000, pid: 0x20000000, network: 0x40000000, time: 0x00000080,
};
/** /proc/PID/ns/<name> for each namespace type. */
export const NS_FILES: Readonly<Record<NamespaceType, string>> = {
  mount: 'mnt', cgroup: 'cgroup', uts: 'uts', ipc: 'ipc', user: 'user', pid: 'pid', network: 'net', time: 'time',
};

export interface PlanMount {
  destination: string;
  type: string;
  source: string;
  flags: number;
  propagation: number;
  data: string;
}

export interface PlanDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  /** Bound from the host instead when mknod is not allowed (user namespace). */
  hostPath: string;
}

export interface CapabilitySets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** The process part, shared by the init and `exec`. */
export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  umask?: number;
  capabilities?: CapabilitySets;
  noNewPrivileges: boolean;
  rlimits: { resource: number; soft: string; hard: string }[];
  seccomp?: Buffer;
  /** seccomp(2) flags (TSYNC, LOG, SPEC_ALLOW...) from linux.seccomp.flags. */
  seccompFlags?: number;
  /** process.terminal: a pty from the container's devpts, relayed by berth-native. */
  terminal: boolean;
  consoleSize?: { height: number; width: number };
}

export interface LaunchPlan extends ProcessPlan {
  stateDir: string;
  cloneFlags: number;
  cgroupNamespace: boolean;
  joins: { flag: number; path: string }[];
  uidMap?: string;
  gidMap?: string;
  procsFiles: string[];
  oomFile?: string;
  deviceFilter?: { program: Buffer; cgroup: string };
  /** No monitor: the init is the caller's child (see PlanContext.monitor). */
  noMonitor: boolean;
  rootfs?: string;
  rootfsPropagation: number;
  rootReadonly: boolean;
  mounts: PlanMount[];
  devices: PlanDevice[];
  devLinks: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  /** [path below /proc/sys, value] (core/spec/sysctl-names: dotted and path names read as sysctl(8) does). */
  sysctls: [string, string][];
  oomScoreAdj?: number;
  /** createContainer and startContainer hooks, run by the init inside the container. */
  containerHooks: { stage: 'createContainer' | 'startContainer'; hook: Hook }[];
  /** The state JSON the init hands those hooks, split where its host pid goes. */
  hookState?: { head: string; tail: string };
}

/** Facts from the host the pure translation needs (all computed by the driver before). */
export interface PlanContext {
  /** For the container hooks' state JSON. */
  id?: string;
  bundle?: string;
  stateDir: string;
  /** cgroup.procs files the init is placed in, before it runs anything. */
  procsFiles: string[];
  /** memory.oom_control (v1) or memory.events (v2) of the container's cgroup. */
  oomFile?: string;
  /** For a `cgroup` mount: the container's own cgroup directories, by the name they get inside. */
  cgroupBinds: { name: string; source: string }[];
  cgroupVersion: 1 | 2;
  /** cgroup v2: the eBPF device program berth-native attaches to the container's cgroup before the init joins it. */
  deviceFilter?: { program: Buffer; cgroup: string };
  /**
   * false: runc's shape (berth as an OCI runtime binary under Docker/containerd): the init is
   * cloned as the caller's child, waits on start.fifo itself, and no monitor stays. Default: monitor.
   */
  monitor?: boolean;
  /** Compiles linux.seccomp to BPF bytes (injected so this file stays free of the compiler's choice). */
  compileSeccomp?: (profile: Seccomp) => Buffer;
}

const invalid = (field: string, message: string): SpecInvalidError =>
  new SpecInvalidError([{ path: field, message: `${message} (driver "native")` }]);

export const DEFAULT_DEVICES: readonly Omit<PlanDevice, 'hostPath'>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
];

export function capabilityMask(names: readonly string[] | undefined, field: string): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = capabilityNumber(name);
    if (n < 0) throw invalid(`${field}[${i}]`, `unknown capability "${name}"`);
    mask |= 1n << BigInt(n);
  });
  return mask;
}

export function capabilitySets(caps: Capabilities): CapabilitySets {
  const f = 'process.capabilities';
  return {
    bounding: capabilityMask(caps.bounding, `${f}.bounding`),
    effective: capabilityMask(caps.effective, `${f}.effective`),
    permitted: capabilityMask(caps.permitted, `${f}.permitted`),
    inheritable: capabilityMask(caps.inheritable, `${f}.inheritable`),
    ambient: capabilityMask(caps.ambient, `${f}.ambient`),
  };
}

/** A JSON number as an exact unsigned 64-bit decimal (RLIM_INFINITY arrives as 2^64, rounded). */
function u64(n: number): string {
  if (n >= 2 ** 63) return '18446744073709551615';
  return BigInt(Math.trunc(n)).toString();
}

export function processPlan(spec: Spec, compile: PlanContext['compileSeccomp']): ProcessPlan {
  const p = spec.process;
  if (!p || !p.args || p.args.length === 0) throw invalid('process.args', 'a process with at least one argument is required');
  if (!path.posix.isAbsolute(p.cwd)) throw invalid('process.cwd', 'must be an absolute path');
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw invalid(`process.rlimits[${i}].type`, `unknown rlimit ${r.type}`);
    if (r.soft > r.hard) throw invalid(`process.rlimits[${i}]`, 'soft limit above the hard limit');
    return { resource, soft: u64(r.soft), hard: u64(r.hard) };
  });
  let seccomp: Buffer | undefined;
  let seccompFlags = 0;
  const profile = spec.linux?.seccomp;
  if (profile) {
    seccompFlags = seccompFilterFlags(profile);
    if (!compile) throw invalid('linux.seccomp', 'no seccomp compiler available');
    seccomp = compile(profile);
  }
  return {
    args: [...p.args],
    env: [...(p.env ?? [])],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    groups: [...(p.user.additionalGids ?? [])],
    ...(p.user.umask !== undefined ? { umask: p.user.umask } : {}),
    ...(p.capabilities ? { capabilities: capabilitySets(p.capabilities) } : {}),
    noNewPrivileges: p.noNewPrivileges === true,
    rlimits,
    terminal: p.terminal === true,
    ...(p.terminal && p.consoleSize ? { consoleSize: { ...p.consoleSize } } : {}),
    ...(seccomp ? { seccomp, seccompFlags } : {}),
  };
}

function idMap(maps: { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** The /proc/sys path of a namespaced sysctl whose namespace the container has of its own; refuses any other. */
function sysctlTarget(key: string, namespaces: Set<NamespaceType>): string {
  const field = `linux.sysctl["${key}"]`;
  const name = parseSysctlName(key);
  if (!name) throw invalid(field, 'invalid sysctl name');
  if (name.namespace && namespaces.has(name.namespace)) return name.path;
  throw invalid(field, 'only namespaced sysctls (net.* with a network namespace, IPC ones with an ipc namespace, kernel.hostname/domainname with a uts namespace) can be set');
}

function expandMount(m: Mount, i: number, ctx: PlanContext): PlanMount[] {
  const field = `mounts[${i}]`;
  if (!path.posix.isAbsolute(m.destination)) throw invalid(`${field}.destination`, 'must be an absolute path');
  if ((m.uidMappings ?? []).length > 0 || (m.gidMappings ?? []).length > 0) throw invalid(`${field}.uidMappings`, 'id-mapped mounts are not supported');
  const options = m.options ?? [];
  const bind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
  const { flags, propagation, data } = parseMountOptions(options, bind, field);
  const destination = path.posix.normalize(m.destination);
  if (bind) {
    if (!m.source || !path.isAbsolute(m.source)) throw invalid(`${field}.source`, 'a bind mount needs an absolute source path (relative to the bundle is resolved by the core)');
    return [{ destination, type: 'none', source: m.source, flags, propagation, data: '' }];
  }
  const type = m.type ?? '';
  if (!type) throw invalid(`${field}.type`, 'a mount needs a type');
  if (type === 'cgroup' || type === 'cgroup2') {
    // The container's own cgroup directories, bound where a cgroup mount would show them.
    const per = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
    if (ctx.cgroupVersion === 2) {
      const own = ctx.cgroupBinds[0];
      if (!own) throw invalid(field, 'no cgroup to mount');
      return [{ destination, type: 'none', source: own.source, flags: MS.BIND | MS.REC | per, propagation, data: '' }];
    }
    return [
      { destination, type: 'tmpfs', source: 'tmpfs', flags: (flags & ~MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC | (flags & MS.RDONLY), propagation, data: 'mode=755' },
      ...ctx.cgroupBinds.map((b) => ({ destination: path.posix.join(destination, b.name), type: 'none', source: b.source, flags: MS.BIND | MS.REC | per, propagation: 0, data: '' })),
    ];
  }
  return [{ destination, type, source: m.source ?? type, flags, propagation, data }];
}

export function launchPlan(spec: Spec, ctx: PlanContext): LaunchPlan {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  let cloneFlags = 0;
  let cgroupNamespace = false;
  const joins: { flag: number; path: string }[] = [];
  const own = new Set<NamespaceType>();
  namespaces.forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    if (ns.type === 'time') throw invalid(field, 'time namespaces are not supported');
    if (ns.path) {
      if (ns.type === 'mount') throw invalid(`${field}.path`, 'joining an existing mount namespace is not supported');
      if (!path.isAbsolute(ns.path)) throw invalid(`${field}.path`, 'must be an absolute path');
      joins.push({ flag: CLONE_FLAGS[ns.type], path: ns.path });
      return;
    }
    own.add(ns.type);
    if (ns.type === 'cgroup') cgroupNamespace = true;
    else cloneFlags |= CLONE_FLAGS[ns.type];
  });
  if (!own.has('mount')) throw invalid('linux.namespaces', 'the native driver needs a new mount namespace (it pivots into the rootfs)');
  if (!spec.root) throw invalid('root', 'a root filesystem is required');
  if (spec.hostname && !own.has('uts')) throw invalid('hostname', 'setting the hostname needs a new uts namespace');
  if (spec.domainname && !own.has('uts')) throw invalid('domainname', 'setting the domainname needs a new uts namespace');
  let uidMap: string | undefined;
  let gidMap: string | undefined;
  if (own.has('user')) {
    if (!(linux.uidMappings ?? []).length || !(linux.gidMappings ?? []).length) throw invalid('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
    uidMap = idMap(linux.uidMappings ?? []);
    gidMap = idMap(linux.gidMappings ?? []);
  } else if ((linux.uidMappings ?? []).length || (linux.gidMappings ?? []).length) {
    throw invalid('linux.uidMappings', 'id mappings need a new user namespace');
  }
  const mounts = (spec.mounts ?? []).flatMap((m, i) => expandMount(m, i, ctx));
  const devMount = (spec.mounts ?? []).find((m) => path.posix.normalize(m.destination) === '/dev' && m.type !== 'bind' && !(m.options ?? []).some((o) => o === 'bind' || o === 'rbind'));
  const devices: PlanDevice[] = [];
  if (devMount) devices.push(...DEFAULT_DEVICES.map((d) => ({ ...d, hostPath: d.path })));
  (linux.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const p = path.posix.normalize(d.path);
    if (!p.startsWith('/dev/')) throw invalid(`${field}.path`, 'a device must be under /dev');
    if (d.type === 'u') throw invalid(`${field}.type`, 'unbuffered character devices ("u") are not supported');
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) throw invalid(field, 'major and minor are required');
    const entry: PlanDevice = { path: p, type: d.type, major: d.major ?? 0, minor: d.minor ?? 0, mode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0, hostPath: p };
    const existing = devices.findIndex((x) => x.path === p);
    if (existing >= 0) devices[existing] = entry;
    else devices.push(entry);
  });
  let rootfsPropagation = 0;
  if (linux.rootfsPropagation) {
    const f = propagationFlags(linux.rootfsPropagation);
    if (f === undefined) throw invalid('linux.rootfsPropagation', `unknown propagation "${linux.rootfsPropagation}"`);
    rootfsPropagation = f | MS.REC;
  }
  const sysctls = Object.entries(linux.sysctl ?? {}).map(([key, value]): [string, string] => [sysctlTarget(key, own), value]);
  const containerHooks = (['createContainer', 'startContainer'] as const).flatMap((stage) =>
    (spec.hooks?.[stage] ?? []).map((hook, i) => {
      if (!path.posix.isAbsolute(hook.path)) throw invalid(`hooks.${stage}[${i}].path`, 'must be an absolute path (inside the container)');
      return { stage, hook };
    }),
  );
  let hookState: { head: string; tail: string } | undefined;
  if (containerHooks.length > 0) {
    const marker = 987654321;
    const json = JSON.stringify({ ociVersion: OCI_VERSION, id: ctx.id ?? '', status: 'created', pid: marker, bundle: ctx.bundle ?? '', ...(spec.annotations ? { annotations: spec.annotations } : {}) });
    const at = json.indexOf(String(marker));
    hookState = { head: json.slice(0, at), tail: json.slice(at + String(marker).length) };
  }
  const oomScoreAdj = spec.process?.oomScoreAdj;
  if (oomScoreAdj !== undefined && (oomScoreAdj < -1000 || oomScoreAdj > 1000)) throw invalid('process.oomScoreAdj', 'must be within -1000..1000');
  return {
    ...processPlan(spec, ctx.compileSeccomp),
    stateDir: ctx.stateDir,
    cloneFlags,
    cgroupNamespace,
    joins,
    ...(uidMap ? { uidMap } : {}),
    ...(gidMap ? { gidMap } : {}),
    procsFiles: [...ctx.procsFiles],
    ...(ctx.oomFile ? { oomFile: ctx.oomFile } : {}),
    ...(ctx.deviceFilter ? { deviceFilter: ctx.deviceFilter } : {}),
    noMonitor: ctx.monitor === false,
    rootfs: spec.root.path,
    rootfsPropagation,
    rootReadonly: spec.root.readonly === true,
    mounts,
    devices,
    devLinks: devMount !== undefined,
    maskedPaths: [...(linux.maskedPaths ?? [])],
    readonlyPaths: [...(linux.readonlyPaths ?? [])],
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    sysctls,
    ...(oomScoreAdj !== undefined ? { oomScoreAdj } : {}),
    containerHooks,
    ...(hookState ? { hookState } : {}),
  };
}

/** `exec`: the container's process settings with the request's overrides, joining the init's namespaces. */
export function execPlan(
  spec: Spec,
  request: { args: string[]; env?: string[]; cwd?: string; user?: { uid: number; gid: number; additionalGids?: number[] }; tty?: boolean },
  initPid: number,
  procsFiles: string[],
  compile: PlanContext['compileSeccomp'],
): LaunchPlan {
  const proc = spec.process!;
  const execSpec: Spec = {
    ...spec,
    process: { ...proc, args: request.args, env: request.env ?? proc.env ?? [], cwd: request.cwd ?? proc.cwd, user: request.user ?? proc.user, terminal: request.tty === true },
  };
  const base = processPlan(execSpec, compile);
  // user first (the C side orders them again: user, others, mount last)
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  const order: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'];
  return {
    ...base,
    stateDir: '',
    cloneFlags: 0,
    cgroupNamespace: false,
    joins: order.filter((t) => types.has(t)).map((t) => ({ flag: CLONE_FLAGS[t], path: `/proc/${initPid}/ns/${NS_FILES[t]}` })),
    procsFiles: [...procsFiles],
    noMonitor: false,
    rootfsPropagation: 0,
    rootReadonly: false,
    mounts: [],
    devices: [],
    devLinks: false,
    maskedPaths: [],
    readonlyPaths: [],
    sysctls: [],
    containerHooks: [],
  };
}

/** The plan in berth-native's wire format. */
export function encodePlan(plan: LaunchPlan): Buffer {
  const w = new PlanWriter();
  if (plan.stateDir) w.add('statedir', plan.stateDir);
  if (plan.noMonitor) w.add('nomonitor', 1);
  if (plan.cloneFlags) w.add('clone', plan.cloneFlags);
  if (plan.cgroupNamespace) w.add('cgroupns', 1);
  for (const j of plan.joins) w.add('join', j.flag, j.path);
  if (plan.uidMap) w.add('uidmap', plan.uidMap);
  if (plan.gidMap) w.add('gidmap', plan.gidMap);
  for (const f of plan.procsFiles) w.add('procs', f);
  if (plan.oomFile) w.add('oomfile', plan.oomFile);
  if (plan.deviceFilter) w.add('devcgroup', plan.deviceFilter.cgroup).add('devfilter', plan.deviceFilter.program);
  if (plan.rootfs) w.add('rootfs', plan.rootfs);
  if (plan.rootfsPropagation) w.add('rootfsprop', plan.rootfsPropagation);
  if (plan.rootReadonly) w.add('rootro', 1);
  for (const m of plan.mounts) w.add('mount', m.destination, m.type, m.source, m.flags, m.propagation, m.data);
  for (const d of plan.devices) w.add('dev', d.path, d.type, d.major, d.minor, d.mode, d.uid, d.gid, d.hostPath);
  if (plan.devLinks) w.add('devlinks', 1);
  for (const p of plan.maskedPaths) w.add('mask', p);
  for (const p of plan.readonlyPaths) w.add('ro', p);
  if (plan.hostname) w.add('hostname', plan.hostname);
  if (plan.domainname) w.add('domainname', plan.domainname);
  for (const [k, v] of plan.sysctls) w.add('sysctl', k, v);
  for (const r of plan.rlimits) w.add('rlimit', r.resource, r.soft, r.hard);
  if (plan.oomScoreAdj !== undefined) w.add('oomscore', plan.oomScoreAdj);
  w.add('uid', plan.uid);
  w.add('gid', plan.gid);
  for (const g of plan.groups) w.add('group', g);
  if (plan.umask !== undefined) w.add('umask', plan.umask);
  const c = plan.capabilities;
  if (c) w.add('caps', c.bounding.toString(), c.effective.toString(), c.permitted.toString(), c.inheritable.toString(), c.ambient.toString());
  if (plan.noNewPrivileges) w.add('nnp', 1);
  if (plan.seccomp) w.add('seccomp', plan.seccomp);
  if (plan.seccompFlags) w.add('seccompflags', plan.seccompFlags);
  for (const e of plan.env) w.add('env', e);
  for (const a of plan.args) w.add('arg', a);
  w.add('cwd', plan.cwd);
  if (plan.terminal) w.add('terminal', 1);
  for (const { stage, hook } of plan.containerHooks) {
    const args = hook.args ?? [];
    const env = hook.env ?? [];
    w.add('hook', stage, hook.path, hook.timeout ?? 0, args.length, ...args, env.length, ...env);
  }
  if (plan.hookState) w.add('statehead', plan.hookState.head).add('statetail', plan.hookState.tail);
  if (plan.consoleSize) w.add('consolesize', plan.consoleSize.height, plan.consoleSize.width);
  return w.toBuffer();
}
