/**
 * OCI spec -> Docker Engine `POST /containers/create` body: pure translation, spec in, body out.
 * Whatever Docker cannot express is refused here, naming the JSON field, before anything exists.
 *
 * Docker always gives a container some things of its own; they are accepted only where they match
 * what the spec asks (see STANDARD_MOUNTS) and listed in docs/drivers/docker.md.
 */
import type { ContainerCreateOptions, HostConfig } from 'dockerode';
import {
  DEFAULT_CAPABILITIES,
  dottedSysctlName,
  mountKind,
  type Capabilities,
  type Mount,
  type Resources,
  type Seccomp,
  type Spec,
} from '../../core';
import { DockerRefusalError } from './docker-refusal-error';

/** The create body, with the HostConfig fields @types/dockerode lacks. */
export type DockerHostConfig = HostConfig & { CgroupnsMode?: 'private' | 'host' };
export type DockerCreateBody = Omit<ContainerCreateOptions, 'HostConfig' | 'abortSignal'> & { HostConfig: DockerHostConfig };

export interface CreateBodyOptions {
  /** The imported rootfs image (`berth-rootfs:<hash>`). */
  image: string;
  /** The engine's API version (`1.41`): fields newer than it are refused. */
  apiVersion: string;
  /** Attach stdout/stderr (a foreground run); `stdin` opens the container's stdin too. */
  attach?: { stdin: boolean };
  labels?: Record<string, string>;
  /**
   * The host's name: a new uts namespace starts as a copy of the host's, so a spec with a uts
   * namespace and no hostname keeps it (Docker would name the container after its id).
   */
  hostHostname?: string;
}

/** The API version from which MaskedPaths/ReadonlyPaths were verified to be honoured. */
export const MASKED_PATHS_API = '1.41';

/**
 * Docker's own mounts (moby oci/defaults.go, as seen in a container on this engine): a spec mount of
 * the same type at the same place is "provided by Docker". `ro` must agree both ways; every other
 * spec option must be one Docker uses (Docker may add nosuid/noexec/nodev the spec left out).
 */
const STANDARD_MOUNTS: Record<string, { types: string[]; options: string[] }> = {
  '/proc': { types: ['proc'], options: ['rw', 'nosuid', 'noexec', 'nodev', 'relatime'] },
  '/dev': { types: ['tmpfs'], options: ['rw', 'nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  '/dev/pts': { types: ['devpts'], options: ['rw', 'nosuid', 'noexec', 'newinstance', 'ptmxmode=666', 'mode=620', 'gid=5', 'relatime'] },
  '/dev/shm': { types: ['tmpfs'], options: ['rw', 'nosuid', 'noexec', 'nodev', 'mode=1777', 'relatime'] },
  '/dev/mqueue': { types: ['mqueue'], options: ['rw', 'nosuid', 'noexec', 'nodev', 'relatime'] },
  '/sys': { types: ['sysfs'], options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'] },
  '/sys/fs/cgroup': { types: ['cgroup', 'cgroup2'], options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'] },
};

/** Options Docker's tmpfs parser accepts (moby pkg/mount ParseTmpfsOptions). */
const TMPFS_FLAGS = new Set([
  'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'async', 'dirsync', 'mand', 'nomand',
  'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
]);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

export function dockerCreateBody(spec: Spec, options: CreateBodyOptions): DockerCreateBody {
  const proc = spec.process;
  if (!proc) throw new DockerRefusalError('process', 'missing');
  const host: DockerHostConfig = {
    Init: false,
    AutoRemove: false,
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: {} },
    ReadonlyRootfs: spec.root?.readonly ?? false,
    CapAdd: [],
    CapDrop: [],
    SecurityOpt: [],
    ...namespaceModes(spec),
  };
  const body: DockerCreateBody = {
    Image: options.image,
    Cmd: [...(proc.args ?? [])],
    Env: [...(proc.env ?? [])],
    WorkingDir: proc.cwd,
    User: `${proc.user.uid}:${proc.user.gid}`,
    Labels: { ...options.labels },
    AttachStdout: options.attach !== undefined,
    AttachStderr: options.attach !== undefined,
    AttachStdin: options.attach?.stdin ?? false,
    OpenStdin: options.attach?.stdin ?? false,
    StdinOnce: options.attach?.stdin ?? false,
    Tty: proc.terminal ?? false,
    NetworkDisabled: host.NetworkMode === 'none',
    HostConfig: host,
  };
  // API 1.41 ignores HostConfig.ConsoleSize on Linux, and a resize after start races the process.
  if (proc.consoleSize) throw new DockerRefusalError('process.consoleSize', 'the terminal size cannot be set before the process starts');
  if (spec.hostname) body.Hostname = spec.hostname;
  else if (host.UTSMode === '' && options.hostHostname) body.Hostname = options.hostHostname;
  if (spec.domainname) body.Domainname = spec.domainname;
  if ((proc.user.additionalGids ?? []).length > 0) host.GroupAdd = proc.user.additionalGids!.map(String);
  if (proc.user.umask !== undefined) throw new DockerRefusalError('process.user.umask', 'Docker has no umask setting');
  if (proc.oomScoreAdj !== undefined) host.OomScoreAdj = proc.oomScoreAdj;
  Object.assign(host, capabilityChanges(proc.capabilities, proc.user.uid));
  if ((proc.rlimits ?? []).length > 0) {
    host.Ulimits = proc.rlimits!.map((r) => ({ Name: r.type.replace(/^RLIMIT_/, '').toLowerCase(), Soft: r.soft, Hard: r.hard }));
  }
  host.SecurityOpt!.push(`no-new-privileges=${proc.noNewPrivileges ? 'true' : 'false'}`);
  // No seccomp section in an OCI spec means no filter; Docker would apply its default profile.
  host.SecurityOpt!.push(spec.linux?.seccomp ? `seccomp=${JSON.stringify(dockerSeccompProfile(spec.linux.seccomp))}` : 'seccomp=unconfined');
  // No apparmorProfile means no profile; Docker would apply docker-default where AppArmor is loaded.
  host.SecurityOpt!.push('apparmor=unconfined');
  Object.assign(host, mountConfig(spec, host.IpcMode === 'host'));
  const linux = spec.linux ?? {};
  // The engine takes dotted names only: a path-form name is spelled dotted (core/spec/sysctl-names).
  if (linux.sysctl && Object.keys(linux.sysctl).length > 0) host.Sysctls = Object.fromEntries(Object.entries(linux.sysctl).map(([k, v]) => [dottedSysctlName(k) ?? k, v]));
  const maskedOrReadonly = (linux.maskedPaths ?? []).length > 0 || (linux.readonlyPaths ?? []).length > 0;
  if (apiAtLeast(options.apiVersion, MASKED_PATHS_API)) {
    // Always explicit: left out, Docker would mask its own default set.
    host.MaskedPaths = [...(linux.maskedPaths ?? [])];
    host.ReadonlyPaths = [...(linux.readonlyPaths ?? [])];
  } else if (maskedOrReadonly) {
    const field = (linux.maskedPaths ?? []).length > 0 ? 'linux.maskedPaths' : 'linux.readonlyPaths';
    throw new DockerRefusalError(field, `needs Docker API ${MASKED_PATHS_API} or later (this engine speaks ${options.apiVersion})`);
  }
  Object.assign(host, resourceConfig(linux.resources ?? {}, 'linux.resources'));
  // OCI: a memory limit without a swap limit leaves memory+swap unlimited; Docker would make it twice the limit.
  if (host.Memory !== undefined && host.MemorySwap === undefined) host.MemorySwap = -1;
  return body;
}

/** Namespaces: present -> private; absent -> the host's. Docker cannot share the host's mount namespace. */
function namespaceModes(spec: Spec): Partial<DockerHostConfig> {
  const namespaces = spec.linux?.namespaces ?? [];
  const has = (type: string) => namespaces.some((ns) => ns.type === type);
  namespaces.forEach((ns, i) => {
    if (ns.path) throw new DockerRefusalError(`linux.namespaces[${i}].path`, 'joining a namespace by path cannot be expressed');
    if (!['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'].includes(ns.type)) {
      throw new DockerRefusalError(`linux.namespaces[${i}]`, `a ${ns.type} namespace per container cannot be expressed`);
    }
  });
  if (!has('mount')) {
    throw new DockerRefusalError('linux.namespaces', 'Docker always gives a container its own mount namespace: the spec must ask for one');
  }
  if (!has('uts') && spec.hostname) {
    throw new DockerRefusalError('hostname', 'setting a hostname needs a uts namespace');
  }
  return {
    NetworkMode: has('network') ? 'none' : 'host',
    PidMode: has('pid') ? '' : 'host',
    IpcMode: has('ipc') ? 'private' : 'host',
    UTSMode: has('uts') ? '' : 'host',
    CgroupnsMode: has('cgroup') ? 'private' : 'host',
  };
}

/**
 * Docker gives a root process bounding = effective = permitted = one set, inheritable and ambient
 * empty; a non-root process keeps only the bounding set (effective and permitted are cleared at
 * exec, as the kernel does for every runtime when the ambient set is empty).
 * That set is expressed as CapAdd/CapDrop against Docker's default 14. Any other shape is refused.
 */
export function capabilityChanges(caps: Capabilities | undefined, uid: number): { CapAdd: string[]; CapDrop: string[] } {
  if (!caps) {
    // No capabilities section: the process gets none.
    return { CapAdd: [], CapDrop: ['ALL'] };
  }
  const field = 'process.capabilities';
  const bounding = new Set(caps.bounding ?? []);
  const same = (a: Set<string>, b: readonly string[] | undefined) => (b ?? []).length === a.size && (b ?? []).every((c) => a.has(c));
  if ((caps.ambient ?? []).length > 0) throw new DockerRefusalError(`${field}.ambient`, 'ambient capabilities cannot be expressed');
  if ((caps.inheritable ?? []).length > 0) throw new DockerRefusalError(`${field}.inheritable`, 'Docker leaves the inheritable set empty');
  if (uid === 0) {
    const why = 'must equal the bounding set (Docker grants one set)';
    if (!same(bounding, caps.effective)) throw new DockerRefusalError(`${field}.effective`, why);
    if (!same(bounding, caps.permitted)) throw new DockerRefusalError(`${field}.permitted`, why);
  }
  // A non-root process: with no ambient set, execve clears effective and permitted in every runtime
  // (runc sets them before exec, the kernel drops them at exec), so the spec's sets give the same
  // process under Docker as under runc; only the bounding set is carried.
  const defaults = new Set<string>(DEFAULT_CAPABILITIES);
  return {
    CapAdd: [...bounding].filter((c) => !defaults.has(c)).sort(),
    CapDrop: [...defaults].filter((c) => !bounding.has(c)).sort(),
  };
}

/** OCI `linux.seccomp` -> Docker's seccomp profile JSON (passed inline as `seccomp=<json>`). */
export function dockerSeccompProfile(s: Seccomp): Record<string, unknown> {
  const field = 'linux.seccomp';
  if (s.listenerPath) throw new DockerRefusalError(`${field}.listenerPath`, 'a seccomp notify listener cannot be expressed');
  if ((s.flags ?? []).length > 0) throw new DockerRefusalError(`${field}.flags`, 'seccomp filter flags cannot be expressed');
  const notify = (a: string) => a === 'SCMP_ACT_NOTIFY';
  if (notify(s.defaultAction)) throw new DockerRefusalError(`${field}.defaultAction`, 'SCMP_ACT_NOTIFY needs a listener');
  return {
    defaultAction: s.defaultAction,
    ...(s.defaultErrnoRet !== undefined ? { defaultErrnoRet: s.defaultErrnoRet } : {}),
    ...(s.architectures ? { architectures: [...s.architectures] } : {}),
    syscalls: (s.syscalls ?? []).map((sc, i) => {
      if (notify(sc.action)) throw new DockerRefusalError(`${field}.syscalls[${i}].action`, 'SCMP_ACT_NOTIFY needs a listener');
      return {
        names: [...sc.names],
        action: sc.action,
        ...(sc.errnoRet !== undefined ? { errnoRet: sc.errnoRet } : {}),
        ...(sc.args ? { args: sc.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
      };
    }),
  };
}

/** Normalise `mode=0620` to `mode=620` so octal spellings compare equal. */
function normaliseOption(o: string): string {
  const m = /^(mode|ptmxmode)=0*([0-7]+)$/.exec(o);
  return m ? `${m[1]}=${m[2]}` : o;
}

function mountConfig(spec: Spec, hostIpc: boolean): Partial<DockerHostConfig> {
  const out: Partial<DockerHostConfig> = {};
  const mounts: NonNullable<HostConfig['Mounts']> = [];
  const tmpfs: Record<string, string> = {};
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const kind = mountKind(m);
    const standard = STANDARD_MOUNTS[m.destination];
    if (standard && kind !== 'mount.bind' && standard.types.includes(m.type ?? '')) {
      Object.assign(out, standardMount(m, field, standard.options, hostIpc));
      return;
    }
    if (kind === 'mount.bind') mounts.push(bindMount(m, field));
    else if (kind === 'mount.tmpfs') tmpfs[m.destination] = tmpfsOptions(m, field);
    else throw new DockerRefusalError(field, `a ${m.type} mount at ${m.destination} cannot be expressed (Docker mounts ${m.type} only at its standard place)`);
  });
  if (mounts.length > 0) out.Mounts = mounts;
  if (Object.keys(tmpfs).length > 0) out.Tmpfs = tmpfs;
  return out;
}

function standardMount(m: Mount, field: string, dockerOptions: string[], hostIpc: boolean): Partial<DockerHostConfig> {
  const out: Partial<DockerHostConfig> = {};
  const docker = new Set(dockerOptions);
  const options = (m.options ?? []).map(normaliseOption);
  if (options.includes('ro') !== docker.has('ro')) {
    throw new DockerRefusalError(`${field}.options`, `Docker mounts ${m.destination} ${docker.has('ro') ? 'read-only' : 'read-write'}`);
  }
  if (m.destination === '/dev/shm' && hostIpc) {
    throw new DockerRefusalError(field, "without an ipc namespace Docker bind-mounts the host's /dev/shm instead");
  }
  for (const o of options) {
    if (m.destination === '/dev/shm' && o.startsWith('size=')) {
      out.ShmSize = tmpfsSize(o.slice(5), `${field}.options`);
      continue;
    }
    if (!docker.has(o)) {
      throw new DockerRefusalError(`${field}.options`, `"${o}" differs from Docker's own ${m.destination} (${dockerOptions.join(',')})`);
    }
  }
  return out;
}

/** tmpfs `size=` values: bytes, or with k/m/g suffix (as the kernel reads them). Percentages are refused. */
function tmpfsSize(value: string, field: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(value);
  if (!m) throw new DockerRefusalError(field, `size "${value}" cannot be expressed as bytes`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function bindMount(m: Mount, field: string): NonNullable<HostConfig['Mounts']>[number] {
  const options = m.options ?? [];
  let propagation: string | undefined;
  for (const o of options) {
    if (PROPAGATIONS.has(o)) propagation = o;
    else if (!['bind', 'rbind', 'ro', 'rw'].includes(o)) {
      throw new DockerRefusalError(`${field}.options`, `bind option "${o}" cannot be expressed (only ro, rw, bind, rbind and propagation)`);
    }
  }
  const nonRecursive = options.includes('bind') && !options.includes('rbind');
  const bindOptions: Record<string, unknown> = {};
  if (propagation) bindOptions.Propagation = propagation;
  if (nonRecursive) bindOptions.NonRecursive = true;
  return {
    Type: 'bind',
    Source: m.source!,
    Target: m.destination,
    ReadOnly: options.includes('ro'),
    ...(Object.keys(bindOptions).length > 0 ? { BindOptions: bindOptions as { Propagation: 'private' } } : {}),
  };
}

/**
 * A tmpfs mount as a HostConfig.Tmpfs option string. Docker adds noexec,nosuid,nodev unless told
 * otherwise, so the absence of each is said explicitly (exec, suid, dev).
 */
function tmpfsOptions(m: Mount, field: string): string {
  const options = m.options ?? [];
  for (const o of options) {
    const eq = o.indexOf('=');
    const ok = eq < 0 ? TMPFS_FLAGS.has(o) : TMPFS_DATA.has(o.slice(0, eq));
    if (!ok) throw new DockerRefusalError(`${field}.options`, `tmpfs option "${o}" cannot be expressed`);
  }
  const out = [...options];
  for (const [no, yes] of [['noexec', 'exec'], ['nosuid', 'suid'], ['nodev', 'dev']] as const) {
    if (!options.includes(no) && !options.includes(yes)) out.push(yes);
  }
  return out.join(',');
}

/** linux.resources -> HostConfig limits (also the body of `POST /containers/{id}/update`). */
export function resourceConfig(r: Resources, base: string): Partial<DockerHostConfig> {
  const out: Partial<DockerHostConfig> = {};
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined) out.Memory = m.limit;
    if (m.reservation !== undefined) out.MemoryReservation = m.reservation;
    if (m.swap !== undefined) out.MemorySwap = m.swap;
    if (m.swappiness !== undefined) out.MemorySwappiness = m.swappiness;
    if (m.disableOOMKiller !== undefined) out.OomKillDisable = m.disableOOMKiller;
    if (m.kernel !== undefined) throw new DockerRefusalError(`${base}.memory.kernel`, 'kernel memory limits cannot be expressed');
    if (m.kernelTCP !== undefined) throw new DockerRefusalError(`${base}.memory.kernelTCP`, 'kernel TCP memory limits cannot be expressed');
  }
  const c = r.cpu;
  if (c) {
    if (c.shares !== undefined) out.CpuShares = c.shares;
    if (c.quota !== undefined) {
      out.CpuQuota = c.quota;
      out.CpuPeriod = c.period ?? 100000;
    } else if (c.period !== undefined) out.CpuPeriod = c.period;
    if (c.cpus !== undefined) out.CpusetCpus = c.cpus;
    if (c.mems !== undefined) out.CpusetMems = c.mems;
    if (c.realtimeRuntime !== undefined || c.realtimePeriod !== undefined) {
      throw new DockerRefusalError(`${base}.cpu.realtimeRuntime`, 'realtime CPU limits cannot be expressed');
    }
    if (c.burst !== undefined) throw new DockerRefusalError(`${base}.cpu.burst`, 'CPU burst cannot be expressed');
    if (c.idle !== undefined) throw new DockerRefusalError(`${base}.cpu.idle`, 'SCHED_IDLE cgroups cannot be expressed');
  }
  if (r.pids) out.PidsLimit = r.pids.limit;
  if ((r.devices ?? []).length > 0) out.DeviceCgroupRules = deviceRules(r, base);
  return out;
}

/**
 * Docker's device cgroup starts from deny-all plus its standard devices (as runc does for a spec that
 * starts with deny-all), and DeviceCgroupRules add allow rules. So the spec's first rule must deny
 * everything and the rest must allow.
 */
function deviceRules(r: Resources, base: string): string[] {
  const rules = r.devices ?? [];
  const first = rules[0]!;
  const all = (first.type === undefined || first.type === 'a') && first.major === undefined && first.minor === undefined;
  if (first.allow || !all || (first.access !== undefined && first.access !== 'rwm')) {
    throw new DockerRefusalError(`${base}.devices[0]`, 'the first device rule must deny all (Docker starts from deny-all)');
  }
  return rules.slice(1).map((d, i) => {
    if (!d.allow) throw new DockerRefusalError(`${base}.devices[${i + 1}]`, 'a deny rule after the first cannot be expressed');
    const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
    return `${d.type ?? 'a'} ${num(d.major)}:${num(d.minor)} ${d.access ?? 'rwm'}`;
  });
}

/** `1.41` >= `1.40` */
export function apiAtLeast(version: string, minimum: string): boolean {
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = minimum.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}
