/**
 * The LXC driver's pure translation: an OCI spec in, the shim's typed LXC options out. Anything
 * the spec asks for that LXC cannot do faithfully throws SpecInvalidError naming the JSON field.
 * Facts about the host (is this path a folder?) come in through `probe`, so the function stays pure.
 */
import type { Resources, Spec } from '../../core';
import { parseSysctlName } from '../../core';
import { LxcRefusalError } from './lxc-refusal-error';
import type { LxcCgroupLimits, LxcConfigOptions, LxcDeviceRule, LxcMountEntry, LxcNamespace } from '../../vendor/lxc-ts-shim/src';

export const DRIVER_NAME = 'lxc';

export interface LxcTranslationContext {
  /** Where LXC mounts the rootfs before pivot_root (`lxc.rootfs.mount`); read-only paths bind from it. */
  rootfsMount: string;
  /** The start gate hook (`lxc.hook.start-host`) argv. */
  startHook: string[];
  /** What is at a path: on the host for /proc and /sys paths, in the rootfs otherwise. */
  probe: (containerPath: string, where: 'host' | 'rootfs') => 'dir' | 'file' | undefined;
  /** Whether the host counts swap (v1 memory.memsw.*); without it memory.swap cannot be honoured. */
  swapAccounting: boolean;
}

const NAMESPACE_NAMES: Record<string, LxcNamespace> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', user: 'user', time: 'time',
};

/** Devices every container may use whatever its rules say, as runc allows them (after the spec's rules). */
export const DEFAULT_ALLOWED_DEVICES: readonly string[] = [
  'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm', 'c 5:2 rwm',
];

/** Device nodes bound from the host into every container's /dev (runc creates the same ones). */
export const DEFAULT_DEVICE_NODES: readonly string[] = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

const UNLIMITED = 2 ** 63;

function invalid(path: string, message: string): LxcRefusalError {
  return new LxcRefusalError(path, message);
}

export function lxcConfigFor(spec: Spec, ctx: LxcTranslationContext): LxcConfigOptions {
  const proc = spec.process;
  if (!proc || !spec.root) throw invalid(proc ? 'root' : 'process', 'missing');
  const options: LxcConfigOptions = {
    rootfs: { path: spec.root.path, ...(spec.root.readonly ? { readonly: true } : {}), mount: ctx.rootfsMount },
    ...namespaceOptions(spec),
    init: initOptions(spec),
    environment: [...(proc.env ?? [])],
    autodev: false,
    hooks: { startHost: ctx.startHook },
  };
  if (spec.hostname) options.utsName = spec.hostname;
  const mounts = mountOptions(spec, ctx);
  options.mounts = mounts.entries;
  if (mounts.auto.length > 0) options.mountAuto = mounts.auto;
  const caps = capabilityOptions(spec);
  if (caps) options.capabilities = caps;
  if ((proc.rlimits ?? []).length > 0) {
    options.prlimits = Object.fromEntries(proc.rlimits!.map((r) => [r.type.replace(/^RLIMIT_/, '').toLowerCase(), { soft: limit(r.soft), hard: limit(r.hard) }]));
  }
  if (proc.noNewPrivileges) options.noNewPrivs = true;
  if (spec.linux?.resources) {
    const cgroup = cgroupLimitsFor(spec.linux.resources, ctx.swapAccounting);
    if (Object.keys(cgroup).length > 0) options.cgroup = cgroup;
  }
  return options;
}

/**
 * The spec's sysctls as `/proc/sys` paths and values. LXC's own lxc.sysctl.* is written after every
 * mount, so through the read-only /proc/sys of linux.readonlyPaths it fails; berth's start gate
 * writes them instead, entering the container's net, ipc and uts namespaces, before the process
 * runs (runc's order). Only namespaced sysctls whose namespace is private are accepted, as runc's
 * validator does: any other one would change the host.
 */
export function sysctlsFor(spec: Spec): { key: string; path: string; value: string }[] {
  const privateNs = (type: string) => (spec.linux?.namespaces ?? []).some((ns) => ns.type === type && !ns.path);
  return Object.entries(spec.linux?.sysctl ?? {}).map(([key, value]) => {
    const field = `linux.sysctl["${key}"]`;
    const name = parseSysctlName(key);
    if (!name) throw invalid(field, 'not a sysctl name (dotted, or a path below /proc/sys)');
    const ns = name.namespace;
    if (!ns) throw invalid(field, 'not a namespaced sysctl: setting it would change the host');
    if (!privateNs(ns)) throw invalid(field, `needs a private ${ns} namespace (it would change the host's)`);
    if (/[\n\r\0]/.test(value)) throw invalid(field, 'the value contains a line break');
    if (/[=\s\0]/.test(key)) throw invalid(field, 'a sysctl name cannot contain "=" or blanks');
    return { key, path: name.path, value };
  });
}

function limit(n: number): number {
  return n >= UNLIMITED ? -1 : n;
}

/** Namespaces that can be joined by path through `lxc.namespace.share.*` (verified end to end). */
const JOINABLE = new Set<LxcNamespace>(['net', 'ipc', 'uts']);

function namespaceOptions(spec: Spec): Pick<LxcConfigOptions, 'cloneNamespaces' | 'shareNamespaces' | 'network'> {
  const list = spec.linux?.namespaces ?? [];
  const clone: LxcNamespace[] = [];
  const share: Partial<Record<LxcNamespace, string>> = {};
  list.forEach((ns, i) => {
    const name = NAMESPACE_NAMES[ns.type];
    if (!name || name === 'user' || name === 'time') throw invalid(`linux.namespaces[${i}].type`, `namespace "${ns.type}" is not supported`);
    if (ns.path) {
      if (!JOINABLE.has(name)) throw invalid(`linux.namespaces[${i}].path`, `joining a ${ns.type} namespace is not supported (only network, ipc and uts)`);
      share[name] = ns.path;
    } else {
      clone.push(name);
    }
  });
  if (!clone.includes('mnt')) throw invalid('linux.namespaces', 'LXC always creates a mount namespace: the spec must list {"type":"mount"}');
  return {
    cloneNamespaces: clone,
    ...(Object.keys(share).length > 0 ? { shareNamespaces: share } : {}),
    // A joined network namespace is used as it is: no lxc.net.0 at all.
    ...(share.net ? {} : { network: clone.includes('net') ? ('empty' as const) : ('none' as const) }),
  };
}

function initOptions(spec: Spec): NonNullable<LxcConfigOptions['init']> {
  const { user, cwd } = spec.process!;
  return {
    uid: user.uid,
    gid: user.gid,
    ...((user.additionalGids ?? []).length > 0 ? { groups: [...user.additionalGids!] } : {}),
    cwd,
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * LXC sets the bounding set only (`lxc.cap.keep`). What the process ends up with is what execve
 * leaves, in any runtime: root's permitted and effective sets become the bounding set; a non-root
 * user's become empty (runc sets them before exec, the kernel clears them at exec when the ambient
 * set is empty). So root's effective and permitted sets must equal the bounding set, a non-root
 * user's may say anything, and inheritable and ambient sets must be empty; anything else is refused.
 */
function capabilityOptions(spec: Spec): LxcConfigOptions['capabilities'] {
  const caps = spec.process!.capabilities;
  if (!caps) return undefined;
  const bounding = caps.bounding ?? [];
  for (const set of ['inheritable', 'ambient'] as const) {
    if ((caps[set] ?? []).length > 0) throw invalid(`process.capabilities.${set}`, 'LXC sets only the bounding set; this set must be empty');
  }
  if (spec.process!.user.uid === 0) {
    for (const set of ['effective', 'permitted'] as const) {
      if (!sameSet(caps[set] ?? [], bounding)) {
        throw invalid(`process.capabilities.${set}`, "LXC sets only the bounding set, so root's effective and permitted sets equal it: this set must list the same capabilities as bounding");
      }
    }
  }
  return { keep: [...bounding] };
}

function mountOptions(spec: Spec, ctx: LxcTranslationContext): { entries: LxcMountEntry[]; auto: string[] } {
  const entries: LxcMountEntry[] = [];
  const auto: string[] = [];
  const devices = (): LxcMountEntry[] =>
    DEFAULT_DEVICE_NODES.map((node) => ({ source: node, target: node, type: 'none', options: ['bind', 'create=file', 'optional'] }));
  let devicesAdded = false;
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const options = m.options ?? [];
    const isBind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
    if (isBind) {
      const kind = ctx.probe(m.source ?? '', 'host');
      if (!kind) throw invalid(`${field}.source`, `bind source "${m.source}" does not exist`);
      const rest = options.filter((o) => o !== 'bind' && o !== 'rbind');
      entries.push({ source: m.source!, target: m.destination, type: 'none', options: [options.includes('rbind') ? 'rbind' : 'bind', ...rest, kind === 'dir' ? 'create=dir' : 'create=file'] });
      return;
    }
    switch (m.type) {
      case 'cgroup':
      case 'cgroup2':
        if (m.destination !== '/sys/fs/cgroup') throw invalid(`${field}.destination`, 'a cgroup file system can only be mounted at /sys/fs/cgroup (lxc.mount.auto)');
        auto.push(options.includes('ro') ? 'cgroup:ro' : 'cgroup:rw');
        return;
      case 'sysfs':
        if (m.destination === '/sys' && options.every((o) => ['nosuid', 'noexec', 'nodev', 'ro', 'rw', 'relatime'].includes(o))) {
          // lxc.mount.auto mounts sysfs nosuid,nodev,noexec before the cgroup file system under it.
          auto.unshift(options.includes('ro') ? 'sys:ro' : 'sys:rw');
          return;
        }
        break;
      case 'tmpfs':
      case 'proc':
      case 'devpts':
      case 'mqueue':
        break;
      default:
        throw invalid(`${field}.type`, `mount type "${m.type}" is not supported`);
    }
    entries.push({ source: m.source ?? m.type!, target: m.destination, type: m.type!, options: [...options, 'create=dir'] });
    if (m.destination === '/dev' && !devicesAdded) {
      entries.push(...devices());
      devicesAdded = true;
    }
  });
  if (!devicesAdded) entries.unshift(...devices());
  for (const p of spec.linux?.maskedPaths ?? []) {
    const kind = ctx.probe(p, p.startsWith('/proc/') || p.startsWith('/sys/') ? 'host' : 'rootfs');
    if (kind === 'dir') entries.push({ source: 'tmpfs', target: p, type: 'tmpfs', options: ['ro', 'optional'] });
    else if (kind === 'file') entries.push({ source: '/dev/null', target: p, type: 'none', options: ['bind', 'optional'] });
  }
  for (const p of spec.linux?.readonlyPaths ?? []) {
    entries.push({ source: `${ctx.rootfsMount}${p}`, target: p, type: 'none', options: ['bind', 'ro', 'optional'] });
  }
  return { entries, auto };
}

function deviceRule(r: NonNullable<Resources['devices']>[number]): string {
  const type = r.type ?? 'a';
  if (type === 'a' && r.major === undefined && r.minor === undefined) return 'a';
  return `${type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access ?? 'rwm'}`;
}

/** OCI resources as the shim's neutral cgroup limits (used by create and by update). */
export function cgroupLimitsFor(r: Resources, swapAccounting: boolean): LxcCgroupLimits {
  const out: LxcCgroupLimits = {};
  const base = 'linux.resources';
  const m = r.memory;
  if (m?.limit !== undefined) out.memoryLimit = m.limit;
  if (m?.reservation !== undefined) out.memoryReservation = m.reservation;
  if (m?.swap !== undefined) {
    if (!swapAccounting) throw invalid(`${base}.memory.swap`, 'this host does not account swap (no memory.memsw.limit_in_bytes)');
    out.memorySwapLimit = m.swap;
  }
  const c = r.cpu;
  if (c?.shares !== undefined) out.cpuShares = c.shares;
  if (c?.period !== undefined) out.cpuPeriod = c.period;
  if (c?.quota !== undefined) out.cpuQuota = c.quota;
  if (c?.cpus) out.cpusetCpus = c.cpus;
  if (c?.mems) out.cpusetMems = c.mems;
  if (r.pids) out.pidsMax = r.pids.limit;
  if ((r.devices ?? []).length > 0) {
    const rules: LxcDeviceRule[] = r.devices!.map((d) => ({ allow: d.allow, rule: deviceRule(d) }));
    rules.push(...DEFAULT_ALLOWED_DEVICES.map((rule) => ({ allow: true, rule })));
    out.devices = rules;
  }
  return out;
}
