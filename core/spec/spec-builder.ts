/**
 * Turns `docker run`-style flags into a spec.
 *
 * Two layers: the *default isolation* (namespaces, standard mounts, capabilities, masked paths...)
 * is the strongest the chosen driver declares, so `berth run --driver chroot` works on a driver
 * that isolates nothing; everything the user asked for with a flag is *explicit* and kept whatever
 * the driver declares, so the feature check refuses it by field name when the driver cannot do it.
 * A bundle's config.json is never adjusted: it is taken literally.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Seccomp, Spec } from './oci-spec';
import type { Feature, FeatureRequirement } from '../driver/features';
import { defaultSpec } from './default-spec';
import { mountKind, requiredFeatures } from '../driver/required-features';
import { canonicalCapability, CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities';
import { rlimitFromUlimitName } from './rlimits';
import { parseByteSize } from './byte-size';
import { BerthError } from '../errors/berth-error';
import { networkAnnotations, parseNetworkMode, parsePublish, publishConflict, formatPublish, type PortPublish } from './network-annotations';

export interface RunFlags {
  rootfs: string;
  args: string[];
  hostname?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  capAdd?: string[];
  capDrop?: string[];
  readOnly?: boolean;
  volume?: string[];
  tmpfs?: string[];
  network?: string;
  /** `[hostIP:]hostPort:containerPort[/tcp|udp]`; implies `--network bridge` when no mode is given. */
  publish?: string[];
  ulimit?: string[];
  sysctl?: string[];
  securityOpt?: string[];
  tty?: boolean;
  /** Host environment used to resolve `-e NAME` without a value. */
  hostEnv?: NodeJS.ProcessEnv;
}

export interface BuiltSpec {
  spec: Spec;
  /** Default-isolation fields left out because the driver does not declare them. */
  omittedDefaults: FeatureRequirement[];
}

/**
 * Build a spec from flags. `declared` is the driver's feature set, used only to trim the default
 * isolation; omit it to get the full default (as `compare` does, so every driver sees one spec).
 */
export function buildSpec(flags: RunFlags, declared?: ReadonlySet<Feature>): BuiltSpec {
  const full = defaultSpec({ rootfs: flags.rootfs, args: flags.args });
  full.root = { path: flags.rootfs, readonly: false };
  full.process!.noNewPrivileges = false;
  delete full.hostname;
  const omittedDefaults = declared ? trimToDeclared(full, declared) : [];
  applyFlags(full, flags);
  return { spec: full, omittedDefaults };
}

/** Remove default parts that need undeclared features; returns what was removed. */
function trimToDeclared(spec: Spec, declared: ReadonlySet<Feature>): FeatureRequirement[] {
  const omitted = requiredFeatures(spec).filter((r) => !declared.has(r.feature));
  const has = (f: Feature) => declared.has(f);
  const linux = spec.linux!;
  linux.namespaces = (linux.namespaces ?? []).filter((ns) => has(`namespace.${ns.type}`));
  spec.mounts = (spec.mounts ?? []).filter((m) => has(mountKind(m)) && (!(m.options ?? []).includes('ro') || has('mount.readonly')));
  if (!has('linux.maskedPaths')) delete linux.maskedPaths;
  if (!has('linux.readonlyPaths')) delete linux.readonlyPaths;
  if (!has('linux.seccomp')) delete linux.seccomp;
  if (!has('resources.devices')) delete linux.resources!.devices;
  const proc = spec.process!;
  if (!has('process.capabilities')) delete proc.capabilities;
  if (!has('process.rlimits')) delete proc.rlimits;
  if (!has('process.env')) proc.env = [];
  return omitted;
}

function applyFlags(spec: Spec, flags: RunFlags): void {
  const proc = spec.process!;
  const linux = spec.linux!;
  const resources = linux.resources!;
  const addNamespace = (type: 'uts' | 'network') => {
    linux.namespaces = linux.namespaces ?? [];
    if (!linux.namespaces.some((ns) => ns.type === type)) linux.namespaces.push({ type });
  };

  if (flags.hostname) {
    spec.hostname = flags.hostname;
    addNamespace('uts');
  }
  if (flags.env?.length) proc.env = mergeEnv(proc.env ?? [], flags.env, flags.hostEnv ?? {});
  if (flags.workdir) {
    if (!flags.workdir.startsWith('/')) throw invalid('--workdir', `must be absolute, got "${flags.workdir}"`);
    proc.cwd = flags.workdir;
  }
  if (flags.user) proc.user = parseUser(flags.user);
  if (flags.tty) proc.terminal = true;
  if (flags.memory) resources.memory = { ...resources.memory, limit: parseByteSize(flags.memory, '--memory') };
  if (flags.memoryReservation) {
    resources.memory = { ...resources.memory, reservation: parseByteSize(flags.memoryReservation, '--memory-reservation') };
  }
  if (flags.memorySwap) {
    const swap = flags.memorySwap === '-1' ? -1 : parseByteSize(flags.memorySwap, '--memory-swap');
    resources.memory = { ...resources.memory, swap };
  }
  if (flags.cpus) {
    const cpus = Number(flags.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) throw invalid('--cpus', `not a positive number: "${flags.cpus}"`);
    resources.cpu = { ...resources.cpu, quota: Math.round(cpus * 100000), period: 100000 };
  }
  if (flags.cpuShares !== undefined) resources.cpu = { ...resources.cpu, shares: flags.cpuShares };
  if (flags.cpusetCpus) resources.cpu = { ...resources.cpu, cpus: flags.cpusetCpus };
  if (flags.pidsLimit !== undefined) resources.pids = { limit: flags.pidsLimit };
  if (flags.capAdd?.length || flags.capDrop?.length) {
    proc.capabilities = adjustCapabilities(flags.capAdd ?? [], flags.capDrop ?? []);
  }
  if (flags.readOnly) spec.root!.readonly = true;
  for (const v of flags.volume ?? []) spec.mounts!.push(parseVolume(v));
  for (const t of flags.tmpfs ?? []) spec.mounts!.push(parseTmpfs(t));
  if (flags.network || flags.publish?.length) applyNetwork(spec, flags.network ?? 'bridge', flags.publish ?? [], addNamespace);
  for (const u of flags.ulimit ?? []) setRlimit(spec, u);
  for (const s of flags.sysctl ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw invalid('--sysctl', `expected NAME=VALUE, got "${s}"`);
    linux.sysctl = { ...linux.sysctl, [s.slice(0, eq)]: s.slice(eq + 1) };
  }
  for (const opt of flags.securityOpt ?? []) applySecurityOpt(spec, opt);
  if (resources.devices === undefined && Object.keys(resources).length === 0) delete linux.resources;
}

function invalid(flag: string, message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `${flag}: ${message}`);
}

function mergeEnv(base: string[], extra: string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e] as const));
  for (const e of extra) {
    const eq = e.indexOf('=');
    if (eq === 0) throw invalid('--env', `empty name in "${e}"`);
    if (eq < 0) {
      const value = hostEnv[e];
      if (value !== undefined) out.set(e, `${e}=${value}`);
    } else {
      out.set(e.slice(0, eq), e);
    }
  }
  return [...out.values()];
}

function parseUser(user: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw invalid('--user', `expected uid[:gid] as numbers, got "${user}"`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

function adjustCapabilities(add: string[], drop: string[]) {
  const set = new Set<string>(DEFAULT_CAPABILITIES);
  const resolve = (name: string, flag: string): string[] => {
    if (name.toUpperCase() === 'ALL') return [...CAPABILITIES];
    const c = canonicalCapability(name);
    if (!c) throw invalid(flag, `unknown capability "${name}"`);
    return [c];
  };
  for (const d of drop) for (const c of resolve(d, '--cap-drop')) set.delete(c);
  for (const a of add) for (const c of resolve(a, '--cap-add')) set.add(c);
  const caps = [...set];
  return { bounding: caps, effective: [...caps], permitted: [...caps] };
}

function parseVolume(v: string): Mount {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalid('--volume', `expected SRC:DST[:ro|rw], got "${v}"`);
  const [source, destination, mode] = parts as [string, string, string | undefined];
  if (!path.isAbsolute(source)) throw invalid('--volume', `source must be an absolute host path (named volumes are not supported): "${source}"`);
  if (!path.isAbsolute(destination)) throw invalid('--volume', `destination must be absolute: "${destination}"`);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid('--volume', `mode must be ro or rw, got "${mode}"`);
  if (!fs.existsSync(source)) throw invalid('--volume', `source "${source}" does not exist`);
  return { destination, type: 'bind', source, options: ['rbind', mode === 'ro' ? 'ro' : 'rw'] };
}

function parseTmpfs(t: string): Mount {
  const colon = t.indexOf(':');
  const destination = colon < 0 ? t : t.slice(0, colon);
  if (!path.isAbsolute(destination)) throw invalid('--tmpfs', `destination must be absolute: "${destination}"`);
  const options = colon < 0 ? ['nosuid', 'nodev', 'noexec'] : t.slice(colon + 1).split(',').filter(Boolean);
  return { destination, type: 'tmpfs', source: 'tmpfs', options };
}

function applyNetwork(spec: Spec, network: string, publishFlags: string[], addNamespace: (type: 'network') => void): void {
  const linux = spec.linux!;
  let parsed: ReturnType<typeof parseNetworkMode>;
  try {
    parsed = parseNetworkMode(network);
  } catch (err) {
    throw invalid('--network', (err as Error).message);
  }
  const publish: PortPublish[] = publishFlags.map((p) => {
    try {
      return parsePublish(p);
    } catch (err) {
      throw invalid('--publish', (err as Error).message);
    }
  });
  if (publish.length > 0 && parsed.mode !== 'bridge') throw invalid('--publish', `needs bridge networking, not --network ${parsed.mode}`);
  const clash = publishConflict(publish);
  if (clash) throw invalid('--publish', `${formatPublish(clash[0])} and ${formatPublish(clash[1])} claim the same host port`);
  if (parsed.mode === 'host') linux.namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network');
  else addNamespace('network');
  spec.annotations = { ...spec.annotations, ...networkAnnotations(parsed.mode, parsed.network, publish) };
}

function setRlimit(spec: Spec, ulimit: string): void {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(ulimit);
  const type = m ? rlimitFromUlimitName(m[1]!) : undefined;
  if (!m || !type) throw invalid('--ulimit', `expected NAME=SOFT[:HARD] with a known name, got "${ulimit}"`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  const proc = spec.process!;
  proc.rlimits = [...(proc.rlimits ?? []).filter((r) => r.type !== type), { type, soft, hard }];
}

function applySecurityOpt(spec: Spec, opt: string): void {
  const proc = spec.process!;
  if (opt === 'no-new-privileges' || opt === 'no-new-privileges=true' || opt === 'no-new-privileges:true') {
    proc.noNewPrivileges = true;
  } else if (opt === 'no-new-privileges=false' || opt === 'no-new-privileges:false') {
    proc.noNewPrivileges = false;
  } else if (opt.startsWith('seccomp=') || opt.startsWith('seccomp:')) {
    const file = opt.slice('seccomp='.length);
    if (file === 'unconfined') delete spec.linux!.seccomp;
    else spec.linux!.seccomp = readSeccompProfile(file);
  } else {
    throw invalid('--security-opt', `"${opt}" is not supported (no-new-privileges, seccomp=FILE|unconfined)`);
  }
}

/** A seccomp profile file: the OCI `linux.seccomp` object, or Docker's profile format (archMap). */
export function readSeccompProfile(file: string): Seccomp {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid('--security-opt seccomp', `cannot read "${file}": ${(err as Error).message}`);
  }
  const profile = raw as Seccomp & { archMap?: { architecture: string; subArchitectures?: string[] }[] };
  if (profile.archMap && !profile.architectures) {
    profile.architectures = profile.archMap.flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  }
  delete profile.archMap;
  return profile;
}
