/**
 * The native driver's cgroup manager: one interface, two implementations (v1 hierarchies, v2
 * unified), picked from the host's layout by detectCgroupManager(). Handles are plain JSON so a
 * later CLI process can manage the container's cgroups from its record.
 */
import type { Resources } from '../../../core/spec/oci-spec';
import type { ContainerStats } from '../../../core/driver/execution-driver';
import type { SpecFeature } from '../../../core/driver/features';
import { DEFAULT_CGROUP_ROOT, detectCgroupLayout } from './cgroup-layout';
import { CgroupV1Manager } from './v1/cgroup-v1-manager';
import { CgroupV2Manager } from './v2/cgroup-v2-manager';

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Create the container's cgroup (relative path, e.g. `berth/<id>` or spec.linux.cgroupsPath) in every hierarchy and apply limits. */
  create(relPath: string, resources: Resources | undefined): Promise<CgroupHandle>;
  /** Absolute `cgroup.procs` files, one per hierarchy: the C program writes the init's pid into each before exec. */
  procsFiles(handle: CgroupHandle): string[];
  join(handle: CgroupHandle, pid: number): Promise<void>;
  update(handle: CgroupHandle, resources: Resources): Promise<void>;
  freeze(handle: CgroupHandle): Promise<void>;
  thaw(handle: CgroupHandle): Promise<void>;
  isFrozen(handle: CgroupHandle): Promise<boolean>;
  stats(handle: CgroupHandle): Promise<ContainerStats>;
  pids(handle: CgroupHandle): Promise<number[]>;
  killAll(handle: CgroupHandle, signal: NodeJS.Signals): Promise<void>;
  oomKilled(handle: CgroupHandle): Promise<boolean>;
  /** Guarantee no process is left (freeze, SIGKILL all, thaw, wait empty), then remove every directory. Idempotent. */
  destroy(handle: CgroupHandle): Promise<void>;
}

/** controller -> absolute dir (v2: the single key `unified`); JSON-serialisable. */
export type CgroupHandle = { version: 1 | 2; paths: Record<string, string> };

/** The extra surface both of berth's managers have: what they honour, and a check before create. */
export interface CgroupCapabilities {
  /** The `resources.*` features this manager honours for real on this host. */
  resourceFeatures(): ReadonlySet<SpecFeature>;
  /**
   * Throw SpecInvalidError / FeatureNotSupportedError-style BerthErrors (naming the JSON field)
   * for resource values this host cannot honour. create() and update() call it first, before
   * anything is created or written.
   */
  validate(resources: Resources | undefined): void;
  /**
   * The eBPF device program (struct bpf_insn[] bytes) the caller must load and attach to
   * `handle.paths.unified` before the container's first process runs, or undefined when there is
   * nothing to attach (v1, where devices.allow/deny do the job; no device rules; or a v2 manager
   * made without `callerAttachesDeviceFilter`). See v2/device-filter.ts.
   */
  deviceFilter(resources: Resources | undefined): Buffer | undefined;
}

export interface CgroupManagerOptions {
  /**
   * v2 only. true: the caller (the native driver's C program) loads and attaches deviceFilter()'s
   * program, so any `linux.resources.devices` list is honoured. false (default): only the default
   * rule set is accepted and the device cgroup is not enforced (see v2/v2-devices.ts).
   */
  callerAttachesDeviceFilter?: boolean;
}

export type BerthCgroupManager = CgroupManager & CgroupCapabilities;

export function detectCgroupManager(mountRoot: string = DEFAULT_CGROUP_ROOT): CgroupManager {
  return detectBerthCgroupManager(mountRoot);
}

/** Same as detectCgroupManager, typed with the extra capabilities of berth's own managers. */
export function detectBerthCgroupManager(mountRoot: string = DEFAULT_CGROUP_ROOT, options: CgroupManagerOptions = {}): BerthCgroupManager {
  const layout = detectCgroupLayout(mountRoot);
  return layout.version === 2 ? new CgroupV2Manager(layout.root, options) : new CgroupV1Manager(layout.hierarchies);
}

/**
 * The `resources.*` features the manager detected on this host honours (e.g.
 * `resources.memory.swap` only when v1's memory.memsw files exist), so the driver declares
 * exactly these.
 */
export function cgroupResourceFeatures(manager: CgroupManager = detectCgroupManager()): ReadonlySet<SpecFeature> {
  const withCaps = manager as Partial<CgroupCapabilities>;
  return typeof withCaps.resourceFeatures === 'function' ? withCaps.resourceFeatures() : new Set();
}
