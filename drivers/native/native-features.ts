/** What the native driver honours: the fixed set below, plus the cgroup resources the host's manager honours. */
import type { Feature } from '../../core/driver/features';

export const NATIVE_BASE_FEATURES: readonly Feature[] = [
  'process.args', 'process.env', 'process.cwd', 'process.user', 'process.user.additionalGids', 'process.user.umask',
  'process.terminal', 'process.capabilities', 'process.rlimits', 'process.noNewPrivileges', 'process.oomScoreAdj',
  'root.readonly', 'hostname', 'domainname',
  'namespace.pid', 'namespace.network', 'namespace.mount', 'namespace.ipc', 'namespace.uts', 'namespace.user',
  'namespace.cgroup', 'namespace.join', 'userns.mappings',
  'mount.bind', 'mount.tmpfs', 'mount.proc', 'mount.sysfs', 'mount.devpts', 'mount.mqueue', 'mount.cgroup',
  'mount.readonly', 'mount.other',
  'linux.maskedPaths', 'linux.readonlyPaths', 'linux.devices', 'linux.rootfsPropagation', 'linux.sysctl',
  'linux.cgroupsPath',
  'hooks.prestart', 'hooks.createRuntime', 'hooks.createContainer', 'hooks.startContainer', 'hooks.poststart', 'hooks.poststop',
  'network.bridge', 'network.publish',
  'op.exec', 'op.pause', 'op.stats', 'op.update', 'op.logs', 'op.recover', 'op.killAll',
];
