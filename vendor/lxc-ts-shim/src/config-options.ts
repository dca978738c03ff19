/** Typed options for one LXC container config: what the renderer can write, nothing else. */

/** Namespace names as LXC spells them in `lxc.namespace.clone`/`lxc.namespace.share.*`. */
export type LxcNamespace = 'mnt' | 'pid' | 'uts' | 'ipc' | 'net' | 'user' | 'cgroup' | 'time';
export const LXC_NAMESPACES: readonly LxcNamespace[] = ['mnt', 'pid', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'];

export type CgroupVersion = 'v1' | 'v2';

/** One `lxc.mount.entry` (fstab format); `target` is inside the container (absolute). */
export interface LxcMountEntry {
  source: string;
  target: string;
  /** File system type; `none` for bind mounts. */
  type: string;
  options: string[];
}

export interface LxcIdMap {
  kind: 'u' | 'g';
  containerId: number;
  hostId: number;
  size: number;
}

/** A cgroup device rule: `a`, or `c 1:3 rwm` (`*` for any major/minor). */
export interface LxcDeviceRule {
  allow: boolean;
  rule: string;
}

/**
 * Cgroup limits in neutral form; the renderer writes them as `lxc.cgroup.*` (v1) or `lxc.cgroup2.*`
 * (v2) keys, converting units where the two differ (cpu shares -> weight, memory+swap -> swap).
 */
export interface LxcCgroupLimits {
  memoryLimit?: number;
  memoryReservation?: number;
  /** Memory plus swap, as v1 `memory.memsw.limit_in_bytes` counts it; -1 = unlimited. */
  memorySwapLimit?: number;
  cpuShares?: number;
  /** Microseconds per period; -1 = unlimited. */
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** -1 = unlimited. */
  pidsMax?: number;
  /** In order; written after the limits. */
  devices?: LxcDeviceRule[];
}

export interface LxcHooks {
  /** Run on the host once the container is set up, right before its init runs (`lxc.hook.start-host`). */
  startHost?: string[];
  /** Run on the host after the container stopped (`lxc.hook.post-stop`). */
  postStop?: string[];
}

export interface LxcConfigOptions {
  /** `lxc.uts.name`; unset keeps the inherited host name. */
  utsName?: string;
  rootfs: { path: string; readonly?: boolean; /** `lxc.rootfs.mount`: where LXC mounts it before pivot_root. */ mount?: string };
  /** `lxc.namespace.clone`: the namespaces created; every other one is inherited from the host. */
  cloneNamespaces?: LxcNamespace[];
  /** `lxc.namespace.share.NS`: join an existing namespace (a /proc/PID/ns path, a pid or a container name). */
  shareNamespaces?: Partial<Record<LxcNamespace, string>>;
  /** `lxc.net.0.type`: `empty` (a private loopback only) or `none` (the host's network). */
  network?: 'empty' | 'none';
  /** `lxc.mount.auto` entries, e.g. `proc:mixed`, `sys:ro`, `cgroup:ro`. */
  mountAuto?: string[];
  mounts?: LxcMountEntry[];
  /** `lxc.autodev`: LXC mounts a tmpfs on /dev and creates the usual device nodes. */
  autodev?: boolean;
  init?: { uid?: number; gid?: number; groups?: number[]; cwd?: string; cmd?: string[] };
  /** `lxc.environment` entries, NAME=VALUE. */
  environment?: string[];
  /** Bounding set as capability names (`CAP_CHOWN` or `chown`): `keep` lists the survivors (empty = none). */
  capabilities?: { keep: string[] } | { drop: string[] };
  /** `lxc.prlimit.NAME = soft:hard`; NAME lower case without RLIMIT_ (`nofile`); -1 or Infinity = unlimited. */
  prlimits?: Record<string, { soft: number; hard: number }>;
  sysctls?: Record<string, string>;
  noNewPrivs?: boolean;
  /** `lxc.seccomp.profile`: path of a policy file (see renderSeccompPolicy). */
  seccompProfile?: string;
  idMaps?: LxcIdMap[];
  cgroup?: LxcCgroupLimits;
  hooks?: LxcHooks;
  /** `lxc.apparmor.profile`; hosts without AppArmor need `unconfined` (the default here). */
  apparmorProfile?: string;
  /** `lxc.console.path`; `none` (the default) keeps the tool's own stdio for the init. */
  consolePath?: string;
  /** `lxc.log.level` / `lxc.log.file`. */
  log?: { level?: 'TRACE' | 'DEBUG' | 'INFO' | 'NOTICE' | 'WARN' | 'ERROR' | 'CRIT' | 'ALERT' | 'FATAL'; file?: string };
}
