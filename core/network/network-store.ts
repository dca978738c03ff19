/**
 * The berth network folder: one standard CNI configuration list per network (`<name>.conflist`),
 * plus the built-in default network `berth0` (replaced by `berth0.conflist` when an admin writes
 * one). Creates and removes user-defined bridge networks; tells which containers hold a lease.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { BerthError } from '../errors/berth-error';
import { withFileLock } from '../state/file-lock';
import { runCommand } from '../util/run-command';
import { checkList } from './cni/cni-executor';
import type { NetConfList } from './cni/cni-types';
import { NetworkOptions } from './network-options';
import { DEFAULT_NETWORK, NETWORK_NAME } from '../spec/network-annotations';
import {
  bridgeConfList,
  bridgeNetworkSpec,
  DEFAULT_BRIDGE_NETWORK,
  summarizeConfList,
  type BridgeNetworkSpec,
  type NetworkSummary,
} from './bridge-network';
import { blockOfAddress, cidrsOverlap, formatCidr, parseIpv4Cidr, type Ipv4Cidr } from './ipv4-cidr';

export interface NetworkEntry {
  name: string;
  /** `built-in` for the default network without an override file, else the file. */
  source: string;
  config: NetConfList;
  summary: NetworkSummary;
}

/** A listed network whose file cannot be used. */
export interface BrokenNetwork {
  name: string;
  source: string;
  error: string;
}

/** One address leased by host-local IPAM. */
export interface NetworkLease {
  ip: string;
  containerId: string;
  ifName: string;
}

export interface CreateNetworkInput {
  name: string;
  /** Default: the first free /24 in 10.78.0.0/16. */
  subnet?: string;
  gateway?: string;
  bridge?: string;
}

const AUTO_POOL = parseIpv4Cidr('10.78.0.0/16');

@injectable()
export class NetworkStore {
  constructor(@inject(NetworkOptions) readonly options: NetworkOptions) {}

  private file(name: string): string {
    return path.join(this.options.configDir, `${name}.conflist`);
  }

  /** Every network: the default first, then the folder's files by name; unusable files apart. */
  list(): { networks: NetworkEntry[]; broken: BrokenNetwork[] } {
    const networks: NetworkEntry[] = [];
    const broken: BrokenNetwork[] = [];
    const names = new Set<string>([DEFAULT_NETWORK]);
    for (const f of this.files()) names.add(f.slice(0, -'.conflist'.length));
    for (const name of [...names].sort((a, b) => (a === DEFAULT_NETWORK ? -1 : b === DEFAULT_NETWORK ? 1 : a.localeCompare(b)))) {
      try {
        networks.push(this.get(name));
      } catch (err) {
        broken.push({ name, source: this.file(name), error: (err as Error).message });
      }
    }
    return { networks, broken };
  }

  /** One network by name; NETWORK_NOT_FOUND or NETWORK_CONFIG_INVALID. */
  get(name: string): NetworkEntry {
    if (!NETWORK_NAME.test(name)) throw new BerthError('NETWORK_NOT_FOUND', `no network "${name}" (not a network name)`);
    const file = this.file(name);
    if (!fs.existsSync(file)) {
      if (name !== DEFAULT_NETWORK) throw new BerthError('NETWORK_NOT_FOUND', `no network "${name}" (berth network ls lists them)`);
      const config = bridgeConfList(DEFAULT_BRIDGE_NETWORK);
      return { name, source: 'built-in', config, summary: summarizeConfList(config) };
    }
    let config: NetConfList;
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8')) as NetConfList;
    } catch (err) {
      throw new BerthError('NETWORK_CONFIG_INVALID', `${file}: not JSON: ${(err as Error).message}`);
    }
    try {
      checkList(config);
    } catch (err) {
      throw new BerthError('NETWORK_CONFIG_INVALID', `${file}: ${(err as Error).message}`);
    }
    if (config.name !== name) throw new BerthError('NETWORK_CONFIG_INVALID', `${file}: names network "${config.name}", not "${name}"`);
    return { name, source: file, config, summary: summarizeConfList(config) };
  }

  /** Write a new bridge network; refuses a taken name, bridge or overlapping subnet. */
  async create(input: CreateNetworkInput): Promise<NetworkEntry> {
    fs.mkdirSync(this.options.configDir, { recursive: true });
    return withFileLock(path.join(this.options.configDir, '.lock'), async () => {
      if (input.name === DEFAULT_NETWORK || fs.existsSync(this.file(input.name))) {
        throw new BerthError('NETWORK_EXISTS', `network "${input.name}" already exists`);
      }
      const { networks } = this.list();
      const hostBlocks = await hostAddressBlocks();
      const taken = [...networks.flatMap((n) => (n.summary.subnet ? [{ what: `network "${n.name}"`, block: blockOfAddress(n.summary.subnet) }] : [])), ...hostBlocks];
      const subnet = input.subnet ?? pickFreeSubnet(taken.map((t) => t.block).filter((b): b is Ipv4Cidr => b !== undefined));
      const spec: BridgeNetworkSpec = bridgeNetworkSpec({ ...input, subnet });
      const block = parseIpv4Cidr(spec.subnet);
      for (const t of taken) {
        if (t.block && cidrsOverlap(block, t.block)) throw new BerthError('INVALID_ARGUMENT', `--subnet ${spec.subnet} overlaps ${t.what} (${formatCidr(t.block)})`);
      }
      const clash = networks.find((n) => n.summary.bridge === spec.bridge);
      if (clash) throw new BerthError('NETWORK_EXISTS', `bridge ${spec.bridge} is already used by network "${clash.name}"`);
      if (fs.existsSync(`/sys/class/net/${spec.bridge}`)) throw new BerthError('NETWORK_EXISTS', `a host interface named ${spec.bridge} already exists (choose --bridge)`);
      const config = bridgeConfList(spec);
      const tmp = `${this.file(spec.name)}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
      fs.renameSync(tmp, this.file(spec.name));
      return this.get(spec.name);
    });
  }

  /**
   * Remove a network: its file, its bridge device and its IPAM folder. Refused while a container
   * holds a lease unless `force` (the leases are then dropped with the folder).
   */
  async remove(name: string, force = false): Promise<void> {
    if (name === DEFAULT_NETWORK) throw new BerthError('INVALID_ARGUMENT', `network "${DEFAULT_NETWORK}" is built in and cannot be removed`);
    await withFileLock(path.join(this.options.configDir, '.lock'), async () => {
      const entry = this.get(name);
      const leases = this.leases(name);
      if (leases.length > 0 && !force) {
        const who = leases.map((l) => l.containerId).join(', ');
        throw new BerthError('NETWORK_IN_USE', `network "${name}" is in use by ${leases.length} container(s): ${who}`);
      }
      fs.rmSync(entry.source, { force: true });
      const bridge = entry.summary.driver === 'bridge' ? entry.summary.bridge : undefined;
      if (bridge && fs.existsSync(`/sys/class/net/${bridge}`)) await runCommand(['ip', 'link', 'delete', bridge, 'type', 'bridge']);
      fs.rmSync(path.join(this.options.ipamDir, name), { recursive: true, force: true });
    });
  }

  /** The addresses host-local has leased on this network (files named by IP: `ID\r\nIFNAME`). */
  leases(name: string, dataDir = this.options.ipamDir): NetworkLease[] {
    const dir = path.join(dataDir, name);
    let files: string[];
    try {
      files = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: NetworkLease[] = [];
    for (const f of files) {
      if (!/^[0-9.]+$|:/.test(f)) continue;
      try {
        const [containerId = '', ifName = ''] = fs.readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/);
        out.push({ ip: f, containerId: containerId.trim(), ifName: ifName.trim() });
      } catch {
        // released meanwhile
      }
    }
    return out.sort((a, b) => a.ip.localeCompare(b.ip));
  }

  private files(): string[] {
    try {
      return fs.readdirSync(this.options.configDir).filter((f) => f.endsWith('.conflist') && NETWORK_NAME.test(f.slice(0, -'.conflist'.length)));
    } catch {
      return [];
    }
  }
}

/** The host's IPv4 address blocks (`ip -o -4 addr`), which a new subnet must not overlap. */
async function hostAddressBlocks(): Promise<{ what: string; block: Ipv4Cidr | undefined }[]> {
  const out = await runCommand(['ip', '-o', '-4', 'addr', 'show'], { allowFailure: true });
  const blocks: { what: string; block: Ipv4Cidr | undefined }[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (m && !m[2]!.startsWith('127.')) blocks.push({ what: `the address of host interface ${m[1]}`, block: blockOfAddress(m[2]!) });
  }
  return blocks;
}

function pickFreeSubnet(taken: Ipv4Cidr[]): string {
  for (let i = 0; i < 256; i++) {
    const candidate: Ipv4Cidr = { base: AUTO_POOL.base + i * 256, prefix: 24 };
    if (!taken.some((t) => cidrsOverlap(candidate, t))) return formatCidr(candidate);
  }
  throw new BerthError('INVALID_ARGUMENT', `no free /24 left in ${formatCidr(AUTO_POOL)}: pass --subnet`);
}
