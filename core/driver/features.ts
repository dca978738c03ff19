/**
 * The vocabulary of spec features and operations a driver can declare. A driver's `features` set
 * is its promise: every feature in it is honoured for real. The core refuses any spec that needs a
 * feature outside the set (see required-features.ts and feature-check.ts).
 */

export const SPEC_FEATURES = [
  // process
  'process.args',
  'process.env',
  'process.cwd',
  'process.user',
  'process.user.additionalGids',
  'process.user.umask',
  'process.terminal',
  'process.capabilities',
  'process.rlimits',
  'process.noNewPrivileges',
  'process.oomScoreAdj',
  'process.apparmorProfile',
  'process.selinuxLabel',
  'process.scheduler',
  'process.ioPriority',
  'process.execCPUAffinity',
  // root and host identity
  'root.readonly',
  'hostname',
  'domainname',
  // namespaces, one by one; joining an existing one by path is separate
  'namespace.pid',
  'namespace.network',
  'namespace.mount',
  'namespace.ipc',
  'namespace.uts',
  'namespace.user',
  'namespace.cgroup',
  'namespace.time',
  'namespace.join',
  'userns.mappings',
  // mounts by kind
  'mount.bind',
  'mount.tmpfs',
  'mount.proc',
  'mount.sysfs',
  'mount.devpts',
  'mount.mqueue',
  'mount.cgroup',
  'mount.readonly',
  'mount.other',
  'linux.maskedPaths',
  'linux.readonlyPaths',
  'linux.devices',
  'linux.rootfsPropagation',
  'linux.sysctl',
  'linux.seccomp',
  'linux.cgroupsPath',
  'linux.personality',
  'linux.intelRdt',
  'linux.timeOffsets',
  'linux.mountLabel',
  // resources, each limit separately
  'resources.memory.limit',
  'resources.memory.reservation',
  'resources.memory.swap',
  'resources.memory.swappiness',
  'resources.memory.disableOOMKiller',
  'resources.memory.kernel',
  'resources.cpu.shares',
  'resources.cpu.quota',
  'resources.cpu.cpus',
  'resources.cpu.mems',
  'resources.cpu.realtime',
  'resources.cpu.burst',
  'resources.cpu.idle',
  'resources.pids',
  'resources.blockIO.weight',
  'resources.blockIO.throttle',
  'resources.devices',
  'resources.hugepageLimits',
  'resources.network',
  'resources.rdma',
  'resources.unified',
  // hooks
  'hooks.prestart',
  'hooks.createRuntime',
  'hooks.createContainer',
  'hooks.startContainer',
  'hooks.poststart',
  'hooks.poststop',
  // berth's own annotations
  'network.bridge',
  'network.publish',
] as const;

export const OPERATION_FEATURES = [
  'op.exec',
  'op.pause',
  'op.stats',
  'op.update',
  'op.logs',
  'op.recover',
  'op.killAll',
] as const;

export type SpecFeature = (typeof SPEC_FEATURES)[number];
export type OperationFeature = (typeof OPERATION_FEATURES)[number];
export type Feature = SpecFeature | OperationFeature;

export const ALL_FEATURES: readonly Feature[] = [...SPEC_FEATURES, ...OPERATION_FEATURES];

/** A feature a spec needs, and the JSON path of the field that needs it. */
export interface FeatureRequirement {
  feature: Feature;
  field: string;
}

export function isFeature(name: string): name is Feature {
  return (ALL_FEATURES as readonly string[]).includes(name);
}
