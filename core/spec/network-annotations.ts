/**
 * berth's network request as carried in a spec: the network namespace entry plus the
 * `org.berth.network` and `org.berth.publish` annotations (OCI has no field for either), and the
 * parsing of the CLI's `--network` and `--publish` values. Pure code; every driver reads the same
 * request through `networkRequestFromSpec`.
 */
import { isIP } from 'node:net';
import type { Spec } from './oci-spec';
import type { SpecIssue } from '../errors/spec-invalid-error';
import { SpecInvalidError } from '../errors/spec-invalid-error';
import { BerthError } from '../errors/berth-error';
import { BERTH_ANNOTATIONS } from './berth-annotations';

/** The network berth creates out of the box, used by `--network bridge`. */
export const DEFAULT_NETWORK = 'berth0';

export type NetworkMode = 'none' | 'host' | 'bridge';

/** One published port: `hostIp` empty or absent means every host address. */
export interface PortPublish {
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface NetworkRequest {
  /**
   * none: a private network namespace with only loopback; host: the host's namespace;
   * bridge: a private namespace attached to a bridge network.
   */
  mode: NetworkMode;
  /** The network to attach to (bridge mode only). */
  network?: string;
  publish: PortPublish[];
  /** Set when the spec joins an existing network namespace by path: nothing is set up for it. */
  joinPath?: string;
}

/** A network name: what `berth network create` accepts and a CNI network name allows. */
export const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `none`, `host`, `bridge` or `bridge:NAME`. */
export function parseNetworkMode(text: string): { mode: NetworkMode; network?: string } {
  if (text === 'none' || text === 'host') return { mode: text };
  if (text === 'bridge') return { mode: 'bridge', network: DEFAULT_NETWORK };
  if (text.startsWith('bridge:')) {
    const network = text.slice('bridge:'.length);
    if (!NETWORK_NAME.test(network)) throw new BerthError('INVALID_ARGUMENT', `"${network}" is not a network name (letters, digits, _ . -; up to 64)`);
    return { mode: 'bridge', network };
  }
  throw new BerthError('INVALID_ARGUMENT', `"${text}" is not a network mode (none, host, bridge or bridge:NAME)`);
}

/** `[hostIP:]hostPort:containerPort[/tcp|udp]`; an IPv6 host address goes in brackets: `[::1]:8080:80`. */
export function parsePublish(text: string): PortPublish {
  const bad = (why: string) => new BerthError('INVALID_ARGUMENT', `"${text}": ${why} (expected [hostIP:]hostPort:containerPort[/tcp|udp])`);
  let rest = text;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw bad(`protocol "${p}" is not tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
    if (isIP(hostIp) !== 6) throw bad(`"${hostIp}" is not an IPv6 address`);
  }
  const parts = rest.split(':');
  if (!hostIp && parts.length === 3) {
    hostIp = parts.shift()!;
    if (hostIp !== '' && isIP(hostIp) !== 4) throw bad(`"${hostIp}" is not an IPv4 address`);
  }
  if (parts.length !== 2) throw bad('both a host port and a container port are needed');
  const port = (s: string, what: string) => {
    if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw bad(`${what} "${s}" is not a port number (1-65535)`);
    return Number(s);
  };
  const hostPort = port(parts[0]!, 'host port');
  const containerPort = port(parts[1]!, 'container port');
  return { ...(hostIp ? { hostIp } : {}), hostPort, containerPort, protocol };
}

/** The text form of a published port, as `berth` prints it. */
export function formatPublish(p: PortPublish): string {
  const host = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]:` : `${p.hostIp}:`) : '';
  return `${host}${p.hostPort}:${p.containerPort}/${p.protocol}`;
}

/** Two published ports that would claim the same host port. */
export function publishConflict(list: readonly PortPublish[]): [PortPublish, PortPublish] | undefined {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      const sameIp = !a.hostIp || !b.hostIp || a.hostIp === b.hostIp;
      if (a.protocol === b.protocol && a.hostPort === b.hostPort && sameIp) return [a, b];
    }
  }
  return undefined;
}

const NETWORK_FIELD = `annotations["${BERTH_ANNOTATIONS.network}"]`;
const PUBLISH_FIELD = `annotations["${BERTH_ANNOTATIONS.publish}"]`;

/** Problems with the network annotations and their fit with linux.namespaces (for spec validation). */
export function networkSpecIssues(spec: Spec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  try {
    networkRequestFromSpec(spec);
  } catch (err) {
    if (err instanceof SpecInvalidError) issues.push(...err.issues);
    else throw err;
  }
  return issues;
}

/**
 * The network request a spec makes. Without the annotation the namespaces decide: no network
 * namespace is `host`, a new one is `none`, one joined by path is left alone (`joinPath`).
 */
export function networkRequestFromSpec(spec: Spec): NetworkRequest {
  const annotations = spec.annotations ?? {};
  const ns = (spec.linux?.namespaces ?? []).find((n) => n.type === 'network');
  const fail = (path: string, message: string): never => {
    throw new SpecInvalidError([{ path, message }]);
  };
  const rawMode = annotations[BERTH_ANNOTATIONS.network];
  let mode: NetworkMode;
  let network: string | undefined;
  if (rawMode === undefined) {
    mode = ns ? 'none' : 'host';
  } else {
    try {
      ({ mode, network } = parseNetworkMode(rawMode));
    } catch (err) {
      return fail(NETWORK_FIELD, (err as Error).message);
    }
    if (mode === 'host' && ns) fail(NETWORK_FIELD, 'host networking needs no network namespace in linux.namespaces');
    if (mode !== 'host' && !ns) fail(NETWORK_FIELD, `network mode ${mode} needs a network namespace in linux.namespaces`);
    if (mode !== 'host' && ns?.path) fail(NETWORK_FIELD, `network mode ${mode} needs a new network namespace, not one joined by path`);
  }
  const publish: PortPublish[] = [];
  const rawPublish = annotations[BERTH_ANNOTATIONS.publish];
  if (rawPublish !== undefined) {
    let list: unknown;
    try {
      list = JSON.parse(rawPublish);
    } catch {
      return fail(PUBLISH_FIELD, 'not JSON (expected an array of {hostIp, hostPort, containerPort, protocol})');
    }
    if (!Array.isArray(list)) fail(PUBLISH_FIELD, 'not a JSON array');
    (list as unknown[]).forEach((entry, i) => publish.push(publishEntry(entry, `${PUBLISH_FIELD}[${i}]`, fail)));
    if (publish.length > 0 && mode !== 'bridge') fail(PUBLISH_FIELD, `published ports need bridge networking, not ${mode}`);
    const clash = publishConflict(publish);
    if (clash) fail(PUBLISH_FIELD, `${formatPublish(clash[0])} and ${formatPublish(clash[1])} claim the same host port`);
  }
  return { mode, ...(network ? { network } : {}), publish, ...(ns?.path && rawMode === undefined ? { joinPath: ns.path } : {}) };
}

function publishEntry(entry: unknown, field: string, fail: (path: string, message: string) => never): PortPublish {
  if (typeof entry !== 'object' || entry === null) return fail(field, 'not an object');
  const e = entry as Record<string, unknown>;
  const port = (key: string): number => {
    const v = e[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) return fail(`${field}.${key}`, 'must be a port number (1-65535)');
    return v;
  };
  const protocol = e.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') fail(`${field}.protocol`, 'must be tcp or udp');
  const hostIp = e.hostIp ?? '';
  if (typeof hostIp !== 'string' || (hostIp !== '' && isIP(hostIp) === 0)) fail(`${field}.hostIp`, 'must be an IP address or empty');
  for (const key of Object.keys(e)) {
    if (!['hostIp', 'hostPort', 'containerPort', 'protocol'].includes(key)) fail(`${field}.${key}`, 'unknown key');
  }
  return { ...(hostIp ? { hostIp: hostIp as string } : {}), hostPort: port('hostPort'), containerPort: port('containerPort'), protocol: protocol as 'tcp' | 'udp' };
}

/** The annotations that carry a request (mode and, when any, the published ports). */
export function networkAnnotations(mode: NetworkMode, network: string | undefined, publish: readonly PortPublish[]): Record<string, string> {
  const out: Record<string, string> = {
    [BERTH_ANNOTATIONS.network]: mode === 'bridge' && network && network !== DEFAULT_NETWORK ? `bridge:${network}` : mode,
  };
  if (publish.length > 0) {
    out[BERTH_ANNOTATIONS.publish] = JSON.stringify(publish.map((p) => ({ hostIp: p.hostIp ?? '', hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol })));
  }
  return out;
}
