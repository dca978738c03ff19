/**
 * Semantic rules over a structurally valid spec: names the schema cannot know, absolute paths,
 * cross-field constraints. Each finding names the JSON path of the field.
 */
import type { Spec } from './oci-spec';
import type { SpecIssue } from '../errors/spec-invalid-error';
import { CAPABILITIES } from './capabilities';
import { RLIMITS } from './rlimits';
import { networkSpecIssues } from './network-annotations';
import { sysctlPath } from './sysctl-names';

const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

export function checkSpecRules(spec: Spec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });

  if (!/^1\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/.test(spec.ociVersion)) {
    issue('ociVersion', `unsupported version "${spec.ociVersion}" (berth reads runtime-spec 1.x)`);
  }
  if (!spec.root) issue('root', 'missing: a bundle needs root.path');
  if (!spec.process) issue('process', 'missing: nothing to run');

  const p = spec.process;
  if (p) {
    if (!p.args || p.args.length === 0) issue('process.args', 'must name a command');
    if (!p.cwd.startsWith('/')) issue('process.cwd', `must be an absolute path, got "${p.cwd}"`);
    (p.env ?? []).forEach((e, i) => {
      if (!/^[^=]+=/.test(e)) issue(`process.env[${i}]`, `not of the form NAME=VALUE: "${e}"`);
    });
    for (const set of CAPABILITY_SETS) {
      (p.capabilities?.[set] ?? []).forEach((name, i) => {
        if (!(CAPABILITIES as readonly string[]).includes(name)) {
          issue(`process.capabilities.${set}[${i}]`, `unknown capability "${name}"`);
        }
      });
    }
    const seen = new Set<string>();
    (p.rlimits ?? []).forEach((r, i) => {
      if (!(r.type in RLIMITS)) issue(`process.rlimits[${i}].type`, `unknown rlimit "${r.type}"`);
      if (seen.has(r.type)) issue(`process.rlimits[${i}].type`, `duplicate rlimit "${r.type}"`);
      seen.add(r.type);
      if (r.soft > r.hard) issue(`process.rlimits[${i}]`, `soft limit ${r.soft} is above hard limit ${r.hard}`);
    });
  }

  (spec.mounts ?? []).forEach((m, i) => {
    if (!m.destination.startsWith('/')) issue(`mounts[${i}].destination`, `must be an absolute path, got "${m.destination}"`);
    const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (bind && !m.source) issue(`mounts[${i}].source`, 'a bind mount needs a source');
  });

  const l = spec.linux;
  const namespaces = l?.namespaces ?? [];
  const seenNs = new Set<string>();
  namespaces.forEach((ns, i) => {
    if (seenNs.has(ns.type)) issue(`linux.namespaces[${i}].type`, `duplicate namespace "${ns.type}"`);
    seenNs.add(ns.type);
    if (ns.path !== undefined && !ns.path.startsWith('/')) issue(`linux.namespaces[${i}].path`, 'must be an absolute path');
  });
  const privateNs = (type: string) => namespaces.some((ns) => ns.type === type && !ns.path);
  if (spec.hostname && !privateNs('uts')) issue('hostname', 'setting a hostname needs a private uts namespace');
  if (spec.domainname && !privateNs('uts')) issue('domainname', 'setting a domainname needs a private uts namespace');
  const hasUserNs = namespaces.some((ns) => ns.type === 'user');
  if (((l?.uidMappings ?? []).length > 0 || (l?.gidMappings ?? []).length > 0) && !hasUserNs) {
    issue('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
  }
  if (privateNs('user') && (l?.uidMappings ?? []).length === 0) {
    issue('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
  }
  if (l?.timeOffsets && !privateNs('time')) issue('linux.timeOffsets', 'time offsets need a private time namespace');
  for (const key of Object.keys(l?.sysctl ?? {})) {
    if (!sysctlPath(key)) issue(`linux.sysctl["${key}"]`, 'not a sysctl name (dotted, e.g. net.ipv4.ip_forward, or a path, e.g. net/ipv4/conf/eth0.100/forwarding)');
  }
  [...(l?.maskedPaths ?? []).map((p2, i) => [`linux.maskedPaths[${i}]`, p2] as const),
   ...(l?.readonlyPaths ?? []).map((p2, i) => [`linux.readonlyPaths[${i}]`, p2] as const)].forEach(([path, value]) => {
    if (!value.startsWith('/')) issue(path, `must be an absolute path, got "${value}"`);
  });
  const mem = l?.resources?.memory;
  if (mem?.limit !== undefined && mem.limit !== -1 && mem.limit < 4096 * 64) {
    issue('linux.resources.memory.limit', `${mem.limit} bytes is below the 256 KiB the kernel accepts`);
  }
  if (mem?.swap !== undefined && mem.swap !== -1 && mem.limit !== undefined && mem.limit > 0 && mem.swap < mem.limit) {
    issue('linux.resources.memory.swap', 'memory+swap must be at least the memory limit');
  }
  const cpu = l?.resources?.cpu;
  if (cpu?.quota !== undefined && cpu.quota > 0 && cpu.quota < 1000) {
    issue('linux.resources.cpu.quota', 'must be at least 1000 microseconds');
  }
  if (cpu?.cpus !== undefined && !/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(cpu.cpus)) {
    issue('linux.resources.cpu.cpus', `not a cpu list: "${cpu.cpus}"`);
  }
  const pids = l?.resources?.pids;
  if (pids && pids.limit === 0) issue('linux.resources.pids.limit', 'must be positive, or -1 for no limit');
  issues.push(...networkSpecIssues(spec));
  return issues;
}
