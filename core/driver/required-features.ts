/**
 * Which declared features a spec needs, each with the JSON path of the field that needs it.
 * Pure: spec in, requirements out. A field at its "asks for nothing" value needs no feature.
 */
import type { Feature, FeatureRequirement } from './features';
import type { Mount, Resources, Spec } from '../spec/oci-spec';
import { HOOK_NAMES } from '../spec/oci-spec';
import { BERTH_ANNOTATIONS } from '../spec/berth-annotations';

type Add = (feature: Feature, field: string) => void;

export function requiredFeatures(spec: Spec): FeatureRequirement[] {
  const out: FeatureRequirement[] = [];
  const add: Add = (feature, field) => out.push({ feature, field });
  processFeatures(spec, add);
  if (spec.root?.readonly) add('root.readonly', 'root.readonly');
  if (spec.hostname) add('hostname', 'hostname');
  if (spec.domainname) add('domainname', 'domainname');
  (spec.mounts ?? []).forEach((m, i) => mountFeatures(m, `mounts[${i}]`, add));
  linuxFeatures(spec, add);
  for (const name of HOOK_NAMES) {
    if ((spec.hooks?.[name] ?? []).length > 0) add(`hooks.${name}`, `hooks.${name}`);
  }
  const annotations = spec.annotations ?? {};
  if (annotations[BERTH_ANNOTATIONS.network]?.startsWith('bridge')) {
    add('network.bridge', `annotations["${BERTH_ANNOTATIONS.network}"]`);
  }
  if (annotations[BERTH_ANNOTATIONS.publish]) add('network.publish', `annotations["${BERTH_ANNOTATIONS.publish}"]`);
  return out;
}

function processFeatures(spec: Spec, add: Add): void {
  const p = spec.process;
  if (!p) return;
  if (p.args && p.args.length > 0) add('process.args', 'process.args');
  if (p.env && p.env.length > 0) add('process.env', 'process.env');
  if (p.cwd && p.cwd !== '/') add('process.cwd', 'process.cwd');
  if (p.user.uid !== 0) add('process.user', 'process.user.uid');
  if (p.user.gid !== 0) add('process.user', 'process.user.gid');
  if ((p.user.additionalGids ?? []).length > 0) add('process.user.additionalGids', 'process.user.additionalGids');
  if (p.user.umask !== undefined) add('process.user.umask', 'process.user.umask');
  if (p.terminal) add('process.terminal', 'process.terminal');
  if (p.capabilities) add('process.capabilities', 'process.capabilities');
  if ((p.rlimits ?? []).length > 0) add('process.rlimits', 'process.rlimits');
  if (p.noNewPrivileges) add('process.noNewPrivileges', 'process.noNewPrivileges');
  if (p.oomScoreAdj !== undefined) add('process.oomScoreAdj', 'process.oomScoreAdj');
  if (p.apparmorProfile) add('process.apparmorProfile', 'process.apparmorProfile');
  if (p.selinuxLabel) add('process.selinuxLabel', 'process.selinuxLabel');
  if (p.scheduler) add('process.scheduler', 'process.scheduler');
  if (p.ioPriority) add('process.ioPriority', 'process.ioPriority');
  if (p.execCPUAffinity) add('process.execCPUAffinity', 'process.execCPUAffinity');
}

/** The kind of a mount, as the feature vocabulary names it. */
export function mountKind(m: Mount): Feature {
  const options = m.options ?? [];
  if (m.type === 'bind' || options.includes('bind') || options.includes('rbind')) return 'mount.bind';
  switch (m.type) {
    case 'tmpfs':
      return 'mount.tmpfs';
    case 'proc':
      return 'mount.proc';
    case 'sysfs':
      return 'mount.sysfs';
    case 'devpts':
      return 'mount.devpts';
    case 'mqueue':
      return 'mount.mqueue';
    case 'cgroup':
    case 'cgroup2':
      return 'mount.cgroup';
    default:
      return 'mount.other';
  }
}

function mountFeatures(m: Mount, field: string, add: Add): void {
  add(mountKind(m), field);
  if ((m.options ?? []).includes('ro')) add('mount.readonly', `${field}.options`);
}

function linuxFeatures(spec: Spec, add: Add): void {
  const l = spec.linux;
  if (!l) return;
  (l.namespaces ?? []).forEach((ns, i) => {
    add(`namespace.${ns.type}`, `linux.namespaces[${i}]`);
    if (ns.path) add('namespace.join', `linux.namespaces[${i}].path`);
  });
  if ((l.uidMappings ?? []).length > 0) add('userns.mappings', 'linux.uidMappings');
  if ((l.gidMappings ?? []).length > 0) add('userns.mappings', 'linux.gidMappings');
  if (l.timeOffsets && Object.keys(l.timeOffsets).length > 0) add('linux.timeOffsets', 'linux.timeOffsets');
  if ((l.devices ?? []).length > 0) add('linux.devices', 'linux.devices');
  if (l.cgroupsPath) add('linux.cgroupsPath', 'linux.cgroupsPath');
  if (l.rootfsPropagation) add('linux.rootfsPropagation', 'linux.rootfsPropagation');
  if (l.seccomp) add('linux.seccomp', 'linux.seccomp');
  if (l.sysctl && Object.keys(l.sysctl).length > 0) add('linux.sysctl', 'linux.sysctl');
  if ((l.maskedPaths ?? []).length > 0) add('linux.maskedPaths', 'linux.maskedPaths');
  if ((l.readonlyPaths ?? []).length > 0) add('linux.readonlyPaths', 'linux.readonlyPaths');
  if (l.mountLabel) add('linux.mountLabel', 'linux.mountLabel');
  if (l.intelRdt) add('linux.intelRdt', 'linux.intelRdt');
  if (l.personality) add('linux.personality', 'linux.personality');
  if (l.resources) resourceFeatures(l.resources, add);
}

function resourceFeatures(r: Resources, add: Add): void {
  const base = 'linux.resources';
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined) add('resources.memory.limit', `${base}.memory.limit`);
    if (m.reservation !== undefined) add('resources.memory.reservation', `${base}.memory.reservation`);
    if (m.swap !== undefined) add('resources.memory.swap', `${base}.memory.swap`);
    if (m.swappiness !== undefined) add('resources.memory.swappiness', `${base}.memory.swappiness`);
    if (m.disableOOMKiller) add('resources.memory.disableOOMKiller', `${base}.memory.disableOOMKiller`);
    if (m.kernel !== undefined) add('resources.memory.kernel', `${base}.memory.kernel`);
    if (m.kernelTCP !== undefined) add('resources.memory.kernel', `${base}.memory.kernelTCP`);
  }
  const c = r.cpu;
  if (c) {
    if (c.shares !== undefined) add('resources.cpu.shares', `${base}.cpu.shares`);
    if (c.quota !== undefined) add('resources.cpu.quota', `${base}.cpu.quota`);
    if (c.period !== undefined) add('resources.cpu.quota', `${base}.cpu.period`);
    if (c.burst !== undefined) add('resources.cpu.burst', `${base}.cpu.burst`);
    if (c.cpus) add('resources.cpu.cpus', `${base}.cpu.cpus`);
    if (c.mems) add('resources.cpu.mems', `${base}.cpu.mems`);
    if (c.realtimeRuntime !== undefined || c.realtimePeriod !== undefined) add('resources.cpu.realtime', `${base}.cpu.realtimeRuntime`);
    if (c.idle !== undefined) add('resources.cpu.idle', `${base}.cpu.idle`);
  }
  if (r.pids) add('resources.pids', `${base}.pids.limit`);
  const b = r.blockIO;
  if (b) {
    if (b.weight !== undefined || b.leafWeight !== undefined || (b.weightDevice ?? []).length > 0) {
      add('resources.blockIO.weight', `${base}.blockIO.weight`);
    }
    const throttles = [b.throttleReadBpsDevice, b.throttleWriteBpsDevice, b.throttleReadIOPSDevice, b.throttleWriteIOPSDevice];
    if (throttles.some((t) => (t ?? []).length > 0)) add('resources.blockIO.throttle', `${base}.blockIO`);
  }
  if ((r.devices ?? []).length > 0) add('resources.devices', `${base}.devices`);
  if ((r.hugepageLimits ?? []).length > 0) add('resources.hugepageLimits', `${base}.hugepageLimits`);
  if (r.network) add('resources.network', `${base}.network`);
  if (r.rdma && Object.keys(r.rdma).length > 0) add('resources.rdma', `${base}.rdma`);
  if (r.unified && Object.keys(r.unified).length > 0) add('resources.unified', `${base}.unified`);
}
