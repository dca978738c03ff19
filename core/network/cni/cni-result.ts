/**
 * CNI results (spec 0.3.0 to 1.0.0): parsing a plugin's stdout into a typed result, and converting a
 * result between versions for prevResult chaining (0.3.x/0.4.0 carry `ips[].version`, 1.0.0 does not).
 */
import { z } from 'zod';
import { BerthError } from '../../errors/berth-error';
import { isCniVersion, type CniVersion } from './cni-types';

export interface CniInterface {
  name: string;
  mac?: string;
  /** The netns path for an interface inside the container; absent for host-side interfaces. */
  sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR notation: `10.77.0.5/16`. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
  /** 0.3.x/0.4.0 only: "4" or "6". */
  version?: '4' | '6';
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: CniVersion;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

const resultSchema = z.looseObject({
  cniVersion: z.string(),
  interfaces: z.array(z.looseObject({ name: z.string(), mac: z.string().optional(), sandbox: z.string().optional() })).optional(),
  ips: z
    .array(
      z.looseObject({
        address: z.string(),
        gateway: z.string().optional(),
        interface: z.number().int().min(0).optional(),
        version: z.enum(['4', '6']).optional(),
      }),
    )
    .optional(),
  routes: z.array(z.looseObject({ dst: z.string(), gw: z.string().optional() })).optional(),
  dns: z
    .looseObject({
      nameservers: z.array(z.string()).optional(),
      domain: z.string().optional(),
      search: z.array(z.string()).optional(),
      options: z.array(z.string()).optional(),
    })
    .optional(),
});

/** Parse a result document (a plugin's stdout or a cached prevResult). */
export function parseCniResult(value: unknown, source: string): CniResult {
  const parsed = resultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BerthError('NETWORK_PLUGIN_FAILED', `${source}: not a CNI result: ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const result = parsed.data;
  if (!isCniVersion(result.cniVersion)) {
    throw new BerthError('NETWORK_PLUGIN_FAILED', `${source}: CNI result version "${result.cniVersion}" is not supported (0.3.0 to 1.0.0)`);
  }
  (result.ips ?? []).forEach((ip, i) => {
    if (ip.interface !== undefined && ip.interface >= (result.interfaces ?? []).length) {
      throw new BerthError('NETWORK_PLUGIN_FAILED', `${source}: ips[${i}].interface ${ip.interface} names no interface`);
    }
  });
  return result as CniResult;
}

/** Parse a plugin's stdout (JSON text). */
export function parseCniResultText(text: string, source: string): CniResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BerthError('NETWORK_PLUGIN_FAILED', `${source}: printed no JSON result (${JSON.stringify(text.slice(0, 120))})`);
  }
  return parseCniResult(raw, source);
}

/** The same result expressed in another supported version (what libcni's convert does). */
export function convertCniResult(result: CniResult, to: CniVersion): CniResult {
  const ips = (result.ips ?? []).map((ip) => {
    const copy: CniIpConfig = { ...ip };
    if (to === '1.0.0') delete copy.version;
    else copy.version = ip.version ?? (ip.address.includes(':') ? '6' : '4');
    return copy;
  });
  return { ...result, cniVersion: to, ...(result.ips ? { ips } : {}) };
}

/** The interfaces inside the container (those with a sandbox). */
export function sandboxInterfaces(result: CniResult): CniInterface[] {
  return (result.interfaces ?? []).filter((i) => i.sandbox !== undefined && i.sandbox !== '');
}
