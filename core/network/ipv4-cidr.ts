/** IPv4 addresses and CIDR blocks as numbers: parsing, containment, overlap. Pure. */
import { BerthError } from '../errors/berth-error';

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `10.77.0.0/16`; the address must be the network address (`10.77.0.1/16` is refused with a hint). */
export function parseIpv4Cidr(text: string, what = 'subnet'): Ipv4Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIpv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new BerthError('INVALID_ARGUMENT', `${what} "${text}" is not an IPv4 CIDR block (like 10.90.0.0/24)`);
  const base = (ip & mask(prefix)) >>> 0;
  if (base !== ip) throw new BerthError('INVALID_ARGUMENT', `${what} "${text}" has host bits set (did you mean ${formatIpv4(base)}/${prefix}?)`);
  return { base, prefix };
}

/** Parse `ADDRESS/PREFIX` of an interface (host bits allowed) into its block. */
export function blockOfAddress(text: string): Ipv4Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIpv4(m[1]!) : undefined;
  if (ip === undefined) return undefined;
  const prefix = Number(m![2]);
  return { base: (ip & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** The usable host range of a block (network and broadcast excluded for prefixes up to /30). */
export function hostRange(c: Ipv4Cidr): { first: number; last: number } {
  const size = 2 ** (32 - c.prefix);
  if (c.prefix >= 31) return { first: c.base, last: c.base + size - 1 };
  return { first: c.base + 1, last: c.base + size - 2 };
}
