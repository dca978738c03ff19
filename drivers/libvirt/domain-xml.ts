/**
 * OCI spec -> libvirt domain XML: pure translation, in two layers.
 *
 * 1. `commonDomain`: what any libvirt domain type takes from the spec (name, uuid, memory and
 *    memtune, vcpu/cpuset, cputune). A full-VM mode (`type='qemu'`/`kvm`) reuses it unchanged.
 * 2. `lxcDomain`: what only an LXC domain has (`<os><type>exe</type>` with berth's init, the rootfs
 *    and mounts as `<filesystem>`, `<privnet/>`, the capability policy). A `qemuDomain` would add
 *    `<os><type>hvm</type><kernel/><initrd/><cmdline/>`, disks and a serial console instead (see
 *    docs/drivers/libvirt.md).
 *
 * `renderDomainXml` serialises the model with xmlbuilder2. Anything the spec asks for that the
 * domain cannot express is refused here, naming the JSON field, before anything is created.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { BerthError, CAPABILITIES, mountKind, type Mount, type Spec } from '../../core';
import { envPairs, initOptions, type InitFileSystem } from './init-arguments';
import { normaliseDataOption, parseMountOptions, tmpfsSizeKiB, MS } from './mount-options';

export const DRIVER_NAME = 'libvirt';
/** Where the folder holding berth-lxc-init appears inside the container (under libvirt's own /dev tmpfs,
 *  so a read-only rootfs needs no mount point of its own). */
export const INIT_DIR_IN_CONTAINER = '/dev/.berth';
export const INIT_PATH_IN_CONTAINER = `${INIT_DIR_IN_CONTAINER}/berth-lxc-init`;

export interface CommonDomain {
  name: string;
  uuid: string;
  /**
   * <memory>: the most the domain may ever get, the host's RAM, so `virsh setmem` can raise a limit
   * later (libvirt refuses setmem above it). The enforced limit is memtune's hard_limit, and
   * <currentMemory> mirrors it (it is what `virsh dommemstat` reports as `actual`).
   */
  memoryBytes: number;
  currentMemoryBytes: number;
  memtune: { hardLimitBytes?: number; softLimitBytes?: number; swapHardLimitBytes?: number };
  /** <vcpu cpuset=...>: the CPUs the container may use. */
  cpuset?: string;
  cputune: { shares?: number; periodMicros?: number; quotaMicros?: number };
}

export interface IdRange {
  start: number;
  target: number;
  count: number;
}

export interface LxcFilesystem {
  type: 'mount' | 'ram';
  source?: string;
  usageKiB?: number;
  target: string;
  readonly: boolean;
}

export interface LxcDomain extends CommonDomain {
  type: 'lxc';
  init: string;
  initargs: string[];
  initenv: [string, string][];
  initdir?: string;
  filesystems: LxcFilesystem[];
  /** A private network namespace with only `lo` (no <interface> would otherwise share the host's). */
  privnet: boolean;
  /** <idmap>: the user namespace's uid and gid maps (container id -> host id, count). */
  idmap?: { uid: IdRange[]; gid: IdRange[] };
  /** libvirt's policy for the capability bounding set; undefined = libvirt's default policy. */
  capabilities?: { policy: 'allow'; off: string[] };
}

/** The domain types berth can build; a `QemuDomain` would join this union. */
export type LibvirtDomain = LxcDomain;

export interface DomainInputs {
  name: string;
  uuid: string;
  /** Host folder holding berth-lxc-init, bind-mounted read-only at INIT_DIR_IN_CONTAINER. */
  initHostDir: string;
  /** Total host memory in bytes: the <memory> value when the spec sets no limit. */
  hostMemoryBytes: number;
  /** The caller passes a stdin fd to the container. */
  withStdin: boolean;
}

export function refuse(field: string, message: string): BerthError {
  return new BerthError('FEATURE_NOT_SUPPORTED', `${field}: ${message} (driver "${DRIVER_NAME}")`);
}

/** Layer 1: the parts of a domain any libvirt hypervisor driver understands. */
export function commonDomain(spec: Spec, inputs: Pick<DomainInputs, 'name' | 'uuid' | 'hostMemoryBytes'>): CommonDomain {
  const r = spec.linux?.resources;
  const mem = r?.memory;
  const field = 'linux.resources';
  const limit = mem?.limit !== undefined && mem.limit > 0 ? mem.limit : undefined;
  if (mem?.swap !== undefined && mem.swap > 0 && limit === undefined) {
    throw refuse(`${field}.memory.swap`, 'a swap limit needs memory.limit too');
  }
  if (mem?.swap !== undefined && mem.swap > 0 && limit !== undefined && mem.swap < limit) {
    throw refuse(`${field}.memory.swap`, `memory+swap (${mem.swap}) must be at least memory.limit (${limit})`);
  }
  const cpu = r?.cpu;
  if (cpu?.quota !== undefined && cpu.quota > 0 && cpu.quota < 1000) throw refuse(`${field}.cpu.quota`, 'libvirt needs a quota of at least 1000 µs');
  if (cpu?.period !== undefined && (cpu.period < 1000 || cpu.period > 1000000)) {
    throw refuse(`${field}.cpu.period`, 'libvirt accepts a period from 1000 to 1000000 µs');
  }
  if (cpu?.shares !== undefined && cpu.shares < 2) throw refuse(`${field}.cpu.shares`, 'shares below 2 are not accepted by the kernel');
  return {
    name: inputs.name,
    uuid: inputs.uuid,
    memoryBytes: Math.max(inputs.hostMemoryBytes, limit ?? 0),
    currentMemoryBytes: limit ?? inputs.hostMemoryBytes,
    memtune: {
      ...(limit !== undefined ? { hardLimitBytes: limit } : {}),
      ...(mem?.reservation !== undefined && mem.reservation > 0 ? { softLimitBytes: mem.reservation } : {}),
      ...(mem?.swap !== undefined && mem.swap > 0 ? { swapHardLimitBytes: mem.swap } : {}),
    },
    ...(cpu?.cpus ? { cpuset: cpu.cpus } : {}),
    cputune: {
      ...(cpu?.shares !== undefined ? { shares: cpu.shares } : {}),
      ...(cpu?.quota !== undefined && cpu.quota > 0 ? { quotaMicros: cpu.quota, periodMicros: cpu.period ?? 100000 } : {}),
      ...(cpu?.period !== undefined && !(cpu.quota !== undefined && cpu.quota > 0) ? { periodMicros: cpu.period } : {}),
    },
  };
}

/** Layer 2: an LXC domain running the spec's process under berth-lxc-init. */
export function lxcDomain(spec: Spec, inputs: DomainInputs): LxcDomain {
  const proc = spec.process;
  if (!proc || !spec.root) throw new BerthError('SPEC_INVALID', 'process and root are required');
  if (proc.terminal) throw refuse('process.terminal', 'a terminal is not supported');
  const namespaces = new Set((spec.linux?.namespaces ?? []).map((ns) => ns.type));
  for (const needed of ['pid', 'mount', 'ipc', 'uts'] as const) {
    if (!namespaces.has(needed)) {
      throw refuse('linux.namespaces', `libvirt LXC always creates a private ${needed} namespace; sharing the host's is not possible`);
    }
  }
  const idmap = userNamespace(spec, namespaces.has('user'));
  const { filesystems, init } = lxcFilesystems(spec, inputs.initHostDir);
  return {
    ...commonDomain(spec, inputs),
    type: 'lxc',
    init: INIT_PATH_IN_CONTAINER,
    initargs: ['init', ...initOptions(spec, init, inputs.withStdin), '--', ...(proc.args ?? [])],
    initenv: envPairs(proc.env ?? []),
    ...(proc.cwd && proc.cwd !== '/' ? { initdir: proc.cwd } : {}),
    filesystems,
    privnet: namespaces.has('network'),
    ...(idmap ? { idmap } : {}),
    ...(proc.capabilities ? { capabilities: capabilityPolicy(proc.capabilities.bounding ?? []) } : {}),
  };
}

/** A user namespace is libvirt's <idmap>: one <uid>/<gid> per OCI mapping. */
function userNamespace(spec: Spec, wanted: boolean): { uid: IdRange[]; gid: IdRange[] } | undefined {
  if (!wanted) return undefined;
  const ranges = (list: { containerID: number; hostID: number; size: number }[] = []) => list.map((m) => ({ start: m.containerID, target: m.hostID, count: m.size }));
  const uid = ranges(spec.linux?.uidMappings);
  const gid = ranges(spec.linux?.gidMappings);
  if (uid.length === 0 || gid.length === 0) throw refuse('linux.uidMappings', 'a user namespace needs uidMappings and gidMappings');
  for (const [field, list] of [['linux.uidMappings', uid], ['linux.gidMappings', gid]] as const) {
    if (!list.some((r) => r.start === 0)) throw refuse(field, 'libvirt needs the container\'s id 0 mapped');
  }
  return { uid, gid };
}

/**
 * Capabilities berth-lxc-init needs until it execs the user's process (sethostname and mounts,
 * bounding-set drops, user switch, raising rlimits); it then drops to exactly the spec's sets.
 */
const INIT_CAPABILITIES = ['CAP_SYS_ADMIN', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_RESOURCE'];

/** libvirt's names for the capabilities it can switch (the ones libvirt 9 knows). */
const LIBVIRT_CAPS = new Set(CAPABILITIES.slice(0, 37).map((c) => c.slice(4).toLowerCase()));

function capabilityPolicy(bounding: readonly string[]): { policy: 'allow'; off: string[] } {
  const keep = new Set([...bounding, ...INIT_CAPABILITIES]);
  const off = CAPABILITIES.filter((c) => !keep.has(c))
    .map((c) => c.slice(4).toLowerCase())
    .filter((c) => LIBVIRT_CAPS.has(c));
  return { policy: 'allow', off };
}

/** The rootfs and mounts: libvirt <filesystem>s, plus what berth-lxc-init finishes inside. */
function lxcFilesystems(spec: Spec, initHostDir: string): { filesystems: LxcFilesystem[]; init: InitFileSystem } {
  const filesystems: LxcFilesystem[] = [
    { type: 'mount', source: spec.root!.path, target: '/', readonly: spec.root!.readonly === true },
    { type: 'mount', source: initHostDir, target: INIT_DIR_IN_CONTAINER, readonly: true },
  ];
  const init: InitFileSystem = { mounts: [], remounts: [] };
  const userns = (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
  (spec.mounts ?? []).forEach((m, i) => translateMount(m, `mounts[${i}]`, filesystems, init, userns));
  return { filesystems, init };
}

/** Mounts libvirt always makes itself, and the file-system data it gives them. */
const LIBVIRT_MOUNTS: Readonly<Record<string, { kind: string; data: readonly string[] }>> = {
  '/proc': { kind: 'mount.proc', data: [] },
  '/sys': { kind: 'mount.sysfs', data: [] },
  '/dev': { kind: 'mount.tmpfs', data: ['mode=755', 'size=*', 'nr_inodes=*'] },
  '/dev/pts': { kind: 'mount.devpts', data: ['newinstance', 'ptmxmode=666', 'mode=620', 'gid=5'] },
};

const TMPFS_DATA = /^(size|mode|uid|gid|nr_inodes)=[0-9a-zA-Z%]+$/;

const ATIME_FLAGS = MS.NOATIME | MS.NODIRATIME | MS.STRICTATIME;

function translateMount(m: Mount, field: string, filesystems: LxcFilesystem[], init: InitFileSystem, userns: boolean): void {
  const kind = mountKind(m);
  const dest = m.destination.replace(/\/+$/, '') || '/';
  const o = parseMountOptions(m.options);
  if (o.unsupported.length > 0) throw refuse(`${field}.options`, `mount propagation "${o.unsupported[0]}" is not supported`);
  if (m.uidMappings?.length || m.gidMappings?.length) throw refuse(`${field}.uidMappings`, 'id-mapped mounts are not supported');
  if (dest === '/') throw refuse(`${field}.destination`, 'a mount over / is not supported (use root.path)');
  const builtin = LIBVIRT_MOUNTS[dest];
  if (builtin) {
    if (builtin.kind !== kind) throw refuse(`${field}.type`, `libvirt mounts its own ${dest}; a ${m.type ?? kind} there is not supported`);
    for (const word of o.data) {
      const norm = normaliseDataOption(word);
      const ok = builtin.data.some((d) => d === norm || (d.endsWith('=*') && norm.startsWith(d.slice(0, -1))));
      if (!ok) throw refuse(`${field}.options`, `option "${word}" is not supported for ${dest}`);
      // libvirt made these mounts on the host side: inside a user namespace their file-system
      // options and their atime flag are locked (only mode=755 on /dev is what libvirt set anyway).
      if (userns && kind === 'mount.tmpfs' && norm !== 'mode=755') {
        throw refuse(`${field}.options`, `option "${word}" cannot be applied to libvirt's ${dest} in a user namespace`);
      }
    }
    if (userns && (o.flags & ATIME_FLAGS) !== 0) {
      throw refuse(`${field}.options`, `the atime flags of libvirt's ${dest} cannot change in a user namespace`);
    }
    init.remounts.push({ destination: dest, flags: o.flags, data: kind === 'mount.tmpfs' && !userns ? o.data : [] });
    return;
  }
  switch (kind) {
    case 'mount.bind':
      if (o.data.length > 0) throw refuse(`${field}.options`, `option "${o.data[0]}" is not supported on a bind mount`);
      filesystems.push({ type: 'mount', source: m.source!, target: dest, readonly: o.readonly });
      if ((o.flags & ~MS.RDONLY) !== 0) init.remounts.push({ destination: dest, flags: o.flags, data: [] });
      return;
    case 'mount.tmpfs': {
      const bad = o.data.find((w) => !TMPFS_DATA.test(w));
      if (bad) throw refuse(`${field}.options`, `tmpfs option "${bad}" is not supported`);
      const usage = tmpfsSizeKiB(o.data);
      if (o.data.some((w) => w.startsWith('size=')) && usage === undefined) throw refuse(`${field}.options`, 'tmpfs size must be in bytes, k, m or g');
      filesystems.push({ type: 'ram', ...(usage !== undefined ? { usageKiB: usage } : {}), target: dest, readonly: false });
      init.remounts.push({ destination: dest, flags: o.flags, data: o.data.filter((w) => !w.startsWith('size=')) });
      return;
    }
    case 'mount.mqueue':
      if (o.data.length > 0) throw refuse(`${field}.options`, `option "${o.data[0]}" is not supported on mqueue`);
      init.mounts.push({ type: 'mqueue', destination: dest, flags: o.flags, data: [] });
      return;
    case 'mount.proc':
    case 'mount.sysfs':
    case 'mount.devpts':
      throw refuse(`${field}.destination`, `a ${m.type} mount is only supported where libvirt makes it (${Object.keys(LIBVIRT_MOUNTS).join(', ')})`);
    default:
      throw refuse(`${field}.type`, `mount type "${m.type ?? '?'}" is not supported`);
  }
}

/** Serialise a domain model with xmlbuilder2. */
export function renderDomainXml(d: LibvirtDomain): string {
  const doc = create().ele('domain', { type: d.type });
  renderCommon(doc, d);
  renderLxc(doc, d);
  return doc.end({ prettyPrint: true, headless: true });
}

function renderCommon(doc: XMLBuilder, d: CommonDomain): void {
  doc.ele('name').txt(d.name);
  doc.ele('uuid').txt(d.uuid);
  doc.ele('memory', { unit: 'b' }).txt(String(d.memoryBytes));
  doc.ele('currentMemory', { unit: 'b' }).txt(String(d.currentMemoryBytes));
  const mt = d.memtune;
  if (mt.hardLimitBytes !== undefined || mt.softLimitBytes !== undefined || mt.swapHardLimitBytes !== undefined) {
    const m = doc.ele('memtune');
    if (mt.hardLimitBytes !== undefined) m.ele('hard_limit', { unit: 'b' }).txt(String(mt.hardLimitBytes));
    if (mt.softLimitBytes !== undefined) m.ele('soft_limit', { unit: 'b' }).txt(String(mt.softLimitBytes));
    if (mt.swapHardLimitBytes !== undefined) m.ele('swap_hard_limit', { unit: 'b' }).txt(String(mt.swapHardLimitBytes));
  }
  doc.ele('vcpu', { placement: 'static', ...(d.cpuset ? { cpuset: d.cpuset } : {}) }).txt('1');
  const ct = d.cputune;
  if (ct.shares !== undefined || ct.periodMicros !== undefined || ct.quotaMicros !== undefined) {
    const c = doc.ele('cputune');
    if (ct.shares !== undefined) c.ele('shares').txt(String(ct.shares));
    if (ct.periodMicros !== undefined) c.ele('period').txt(String(ct.periodMicros));
    if (ct.quotaMicros !== undefined) c.ele('quota').txt(String(ct.quotaMicros));
  }
}

function renderLxc(doc: XMLBuilder, d: LxcDomain): void {
  const os = doc.ele('os');
  os.ele('type').txt('exe');
  os.ele('init').txt(d.init);
  for (const arg of d.initargs) os.ele('initarg').txt(arg);
  for (const [name, value] of d.initenv) os.ele('initenv', { name }).txt(value);
  if (d.initdir) os.ele('initdir').txt(d.initdir);
  if (d.idmap) {
    const map = doc.ele('idmap');
    for (const r of d.idmap.uid) map.ele('uid', { start: String(r.start), target: String(r.target), count: String(r.count) });
    for (const r of d.idmap.gid) map.ele('gid', { start: String(r.start), target: String(r.target), count: String(r.count) });
  }
  if (d.privnet || d.capabilities) {
    const features = doc.ele('features');
    if (d.privnet) features.ele('privnet');
    if (d.capabilities) {
      const caps = features.ele('capabilities', { policy: d.capabilities.policy });
      for (const name of d.capabilities.off) caps.ele(name, { state: 'off' });
    }
  }
  doc.ele('on_poweroff').txt('destroy');
  doc.ele('on_reboot').txt('destroy');
  doc.ele('on_crash').txt('destroy');
  const devices = doc.ele('devices');
  for (const fs of d.filesystems) {
    const f = devices.ele('filesystem', { type: fs.type, ...(fs.type === 'mount' ? { accessmode: 'passthrough' } : {}) });
    if (fs.type === 'mount') f.ele('source', { dir: fs.source! });
    else f.ele('source', { usage: String(fs.usageKiB ?? 0), units: 'KiB' });
    f.ele('target', { dir: fs.target });
    if (fs.readonly) f.ele('readonly');
  }
  devices.ele('console', { type: 'pty' });
}

/**
 * The smallest LXC domain that runs `args` on `rootfs` with no berth part at all (its init is the
 * command itself): the raw baseline of the benchmarks (`virsh create` + wait).
 */
export function bareLxcDomainXml(name: string, rootfs: string, args: readonly string[], memoryBytes: number): string {
  const doc = create().ele('domain', { type: 'lxc' });
  doc.ele('name').txt(name);
  doc.ele('memory', { unit: 'b' }).txt(String(memoryBytes));
  const os = doc.ele('os');
  os.ele('type').txt('exe');
  os.ele('init').txt(args[0] ?? '/bin/true');
  for (const arg of args.slice(1)) os.ele('initarg').txt(arg);
  doc.ele('features').ele('privnet');
  const devices = doc.ele('devices');
  const fs = devices.ele('filesystem', { type: 'mount' });
  fs.ele('source', { dir: rootfs });
  fs.ele('target', { dir: '/' });
  fs.ele('readonly');
  devices.ele('console', { type: 'pty' });
  return doc.end({ prettyPrint: true, headless: true });
}
