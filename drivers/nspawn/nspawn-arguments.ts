/**
 * Pure translation: an OCI spec to the systemd-nspawn argv, the environment nspawn runs with, and
 * the argv of berth-nspawn-init (the static helper nspawn runs as the payload, which applies the
 * process settings nspawn cannot express exactly). No I/O here; `nspawn-spec-check.ts` refuses
 * what cannot be honoured before this runs.
 *
 * What goes where:
 *   root.path            --directory (or the overlay that adds /usr and /etc/os-release)
 *   root.readonly        --read-only
 *   hostname             --hostname (without one, the host's name, as a fresh UTS namespace has)
 *   namespaces           nspawn always makes pid, mount, ipc, uts and cgroup namespaces;
 *                        network -> --private-network (absent: the host's network; bridge
 *                        networking: --network-namespace-path to the namespace berth attached);
 *                        user + one mapping from 0 -> --private-users=HOST:SIZE, ownership off
 *   mounts bind          --bind / --bind-ro (`bind` -> :norbind)
 *   mounts tmpfs         --tmpfs=DEST:OPTIONS (outside nspawn's own /dev, /dev/shm)
 *   proc/sysfs/devpts/mqueue/cgroup and tmpfs on /dev, /dev/shm at their usual places: nspawn's own
 *   process.*            berth-nspawn-init: user, groups, umask, capabilities (all five sets),
 *                        rlimits, noNewPrivileges, oomScoreAdj, cwd, env (exactly the spec's)
 *   linux.maskedPaths / readonlyPaths   berth-nspawn-init, before it drops privileges
 *   linux.sysctl         berth-nspawn-init, through a scratch procfs (nspawn's /proc/sys is read-only)
 *   linux.resources      not here: a cgroup berth manages (nspawn-cgroup.ts)
 */
import type { Capabilities, Mount, Process, Spec } from '../../core';
import { CAPABILITIES, capabilityNumber, sysctlPath } from '../../core';
import { RLIMITS } from '../../core/spec/rlimits';

/** Where the helper appears inside the container (nspawn mounts a tmpfs on /run). */
export const INIT_IN_CONTAINER = '/run/.berth/init';
/** A folder of the state dir, bound read-only: the helper waits for `go` in it while prestart/createRuntime hooks run. */
export const CONTROL_IN_CONTAINER = '/run/.berth/ctl';
export const HOOKS_GO = 'go';

/** Whether the spec has hooks that must run after nspawn made the namespaces, before the user's process. */
export function hasCreateHooks(spec: Spec): boolean {
  return (spec.hooks?.prestart ?? []).length + (spec.hooks?.createRuntime ?? []).length > 0;
}

/** Paths systemd-nspawn (252) already makes read-only, or hides: the helper need not redo them. */
export const NSPAWN_READONLY: ReadonlySet<string> = new Set(['/proc/sys', '/proc/acpi', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger']);
export const NSPAWN_INACCESSIBLE: ReadonlySet<string> = new Set(['/proc/kcore', '/proc/sysrq-trigger']);

/** nspawn's own API filesystems: a spec mount of this type at this destination is honoured by nspawn itself. */
export const NSPAWN_API_MOUNTS: ReadonlyArray<{ type: string; destination: string }> = [
  { type: 'proc', destination: '/proc' },
  { type: 'sysfs', destination: '/sys' },
  { type: 'tmpfs', destination: '/dev' },
  { type: 'tmpfs', destination: '/dev/shm' },
  { type: 'devpts', destination: '/dev/pts' },
  { type: 'mqueue', destination: '/dev/mqueue' },
  { type: 'cgroup', destination: '/sys/fs/cgroup' },
  { type: 'cgroup2', destination: '/sys/fs/cgroup' },
  { type: 'tmpfs', destination: '/run' },
];

/**
 * Environment for the nspawn process: its own log lines (the "Attempted to remove disk file system"
 * line at exit) would mix with the container's stderr, so only critical ones are kept; no tmpfs on
 * /tmp that the spec did not ask for; no seccomp filter of nspawn's own (the spec's seccomp is not
 * supported, so the container runs without one, as runc does for a spec without `linux.seccomp`);
 * no image lock (nspawn locks a writable tree exclusively: OCI lets containers share a rootfs).
 */
export const NSPAWN_ENVIRONMENT: Readonly<Record<string, string>> = {
  SYSTEMD_LOG_LEVEL: 'crit',
  SYSTEMD_NSPAWN_TMPFS_TMP: '0',
  SYSTEMD_SECCOMP: '0',
  SYSTEMD_NSPAWN_LOCK: '0',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

export interface NspawnArgumentsInput {
  spec: Spec;
  /** nspawn's machine name (unique per container). */
  machine: string;
  /** The folder nspawn boots: the rootfs or the overlay over it. */
  directory: string;
  /** Host path of berth-nspawn-init. */
  initPath: string;
  /** Host hostname, used when the spec names none. */
  hostHostname: string;
  nspawnBinary?: string;
  /** Host folder bound at CONTROL_IN_CONTAINER when the spec has prestart/createRuntime hooks. */
  controlDir?: string;
  /** Bridge networking: the named namespace berth attached (instead of nspawn's --private-network). */
  networkNamespacePath?: string;
}

/** The user namespace's single mapping (container id 0), when the spec asks for one. */
export function userNamespaceRange(spec: Spec): { hostID: number; size: number } | undefined {
  if (!(spec.linux?.namespaces ?? []).some((n) => n.type === 'user')) return undefined;
  const m = spec.linux?.uidMappings?.[0];
  return m ? { hostID: m.hostID, size: m.size } : undefined;
}

export function isApiMount(m: Mount): boolean {
  return NSPAWN_API_MOUNTS.some((a) => a.type === m.type && a.destination === normalise(m.destination));
}

export function isBindMount(m: Mount): boolean {
  const options = m.options ?? [];
  return m.type === 'bind' || options.includes('bind') || options.includes('rbind');
}

/** The whole systemd-nspawn argv, ending with the helper and the user's command. */
export function nspawnArguments(input: NspawnArgumentsInput): string[] {
  const { spec } = input;
  const argv = [
    input.nspawnBinary ?? 'systemd-nspawn',
    '--quiet',
    '--register=no',
    '--keep-unit',
    '--console=pipe',
    '--link-journal=no',
    '--resolv-conf=off',
    '--timezone=off',
    `--machine=${input.machine}`,
    `--directory=${input.directory}`,
    `--hostname=${spec.hostname || input.hostHostname}`,
    // Every capability nspawn can give: berth-nspawn-init sets the spec's exact sets afterwards.
    '--capability=all',
  ];
  if (spec.root?.readonly) argv.push('--read-only');
  if (input.networkNamespacePath) argv.push(`--network-namespace-path=${input.networkNamespacePath}`);
  else if ((spec.linux?.namespaces ?? []).some((n) => n.type === 'network')) argv.push('--private-network');
  const userns = userNamespaceRange(spec);
  // One range for uids and gids (nspawn's only form); berth never chowns the user's rootfs.
  if (userns) argv.push(`--private-users=${userns.hostID}:${userns.size}`, '--private-users-ownership=off');
  for (const m of spec.mounts ?? []) argv.push(...mountArguments(m));
  argv.push(`--bind-ro=${input.initPath}:${INIT_IN_CONTAINER}`);
  const wait = hasCreateHooks(spec) && input.controlDir ? ['--wait-for', `${CONTROL_IN_CONTAINER}/${HOOKS_GO}`] : [];
  if (wait.length > 0) argv.push(`--bind-ro=${input.controlDir}:${CONTROL_IN_CONTAINER}`);
  argv.push(INIT_IN_CONTAINER, ...wait, ...initArguments(spec.process!, { init: true, spec }));
  return argv;
}

function mountArguments(m: Mount): string[] {
  if (isApiMount(m)) return [];
  const options = m.options ?? [];
  const dest = normalise(m.destination);
  if (isBindMount(m)) {
    const flag = options.includes('ro') ? '--bind-ro' : '--bind';
    const recursive = options.includes('bind') && !options.includes('rbind') ? ':norbind' : '';
    return [`${flag}=${m.source}:${dest}${recursive}`];
  }
  if (m.type === 'tmpfs') {
    // nspawn adds nodev to every tmpfs of its own accord: `dev` undoes it unless the spec asks for nodev.
    const flags = options.filter((o) => TMPFS_FLAG_OPTIONS.has(o) || TMPFS_DATA_OPTION.test(o));
    if (!flags.includes('nodev')) flags.push('dev');
    return [`--tmpfs=${dest}:${flags.join(',')}`];
  }
  return [];
}

/** tmpfs options nspawn passes through as mount data. */
export const TMPFS_DATA_OPTION = /^(size|mode|nr_inodes|nr_blocks|uid|gid)=[^,:]+$/;
/** Mount flags nspawn's --tmpfs applies (it always mounts with strictatime, so other atime options are not here). */
export const TMPFS_FLAG_OPTIONS: ReadonlySet<string> = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'strictatime']);

export interface InitOptions {
  /** The container's first process: also masks and read-only paths. */
  init: boolean;
  spec: Spec;
}

/** The helper's argv (after its path): everything it must apply, `--`, then the command. */
export function initArguments(proc: Process, options: InitOptions): string[] {
  const out: string[] = [];
  const linux = options.spec.linux;
  if (options.init) {
    for (const [key, value] of Object.entries(linux?.sysctl ?? {})) out.push('--sysctl', `${sysctlPath(key) ?? key}=${value}`); // the path below /proc/sys
    for (const p of linux?.maskedPaths ?? []) if (!NSPAWN_INACCESSIBLE.has(normalise(p))) out.push('--mask', p);
    for (const p of linux?.readonlyPaths ?? []) if (!NSPAWN_READONLY.has(normalise(p)) && !NSPAWN_INACCESSIBLE.has(normalise(p))) out.push('--readonly', p);
    if (proc.oomScoreAdj !== undefined) out.push('--oom-score-adj', String(proc.oomScoreAdj));
  }
  for (const r of proc.rlimits ?? []) out.push('--rlimit', `${RLIMITS[r.type]}:${r.soft}:${r.hard}`);
  if (proc.user.umask !== undefined) out.push('--umask', proc.user.umask.toString(8));
  const groups = proc.user.additionalGids ?? [];
  out.push('--groups', groups.join(','), '--gid', String(proc.user.gid), '--uid', String(proc.user.uid));
  // Without process.capabilities the process keeps nspawn's full set; an exec through nsenter
  // would otherwise have the host's (CAP_SYS_MODULE too), so the helper gets it spelt out.
  out.push('--caps', capabilityMasks(proc.capabilities ?? NSPAWN_FULL_CAPABILITIES));
  if (proc.noNewPrivileges) out.push('--nnp');
  out.push('--cwd', proc.cwd || '/');
  for (const e of proc.env ?? []) out.push('--env', e);
  out.push('--', ...(proc.args ?? []));
  return out;
}

/** What systemd-nspawn's --capability=all gives: every capability but CAP_SYS_MODULE, ambient none. */
export const NSPAWN_FULL_CAPABILITIES: Capabilities = (() => {
  const all = CAPABILITIES.filter((c) => c !== 'CAP_SYS_MODULE');
  return { bounding: [...all], effective: [...all], permitted: [...all], inheritable: [...all], ambient: [] };
})();

/** `B:E:P:I:A` hex masks of the five capability sets. */
export function capabilityMasks(caps: Capabilities): string {
  const sets = [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient];
  return sets.map((s) => capabilityMask(s ?? []).toString(16)).join(':');
}

export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n >= 0) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** A name nspawn accepts for --machine: letters, digits, '-', at most 64 characters. */
export function machineName(id: string, unique: string): string {
  const clean = id.replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 40);
  return `berth-${clean}${clean ? '-' : ''}${unique}`.slice(0, 64);
}

export function normalise(p: string): string {
  const out = p.replace(/\/+/g, '/');
  return out.length > 1 ? out.replace(/\/$/, '') : out;
}
