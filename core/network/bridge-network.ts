/**
 * A berth bridge network as a standard CNI configuration list: `bridge` (a Linux bridge, a veth per
 * container, the bridge as gateway, masquerade for traffic leaving the subnet) with `host-local`
 * IPAM, then `portmap` (published ports as DNAT, including from the host's loopback) and `firewall`
 * (lets the container's traffic through the FORWARD chain). Pure.
 */
import * as crypto from 'node:crypto';
import { BerthError } from '../errors/berth-error';
import type { NetConfList } from './cni/cni-types';
import { cidrContains, formatIpv4, hostRange, parseIpv4, parseIpv4Cidr } from './ipv4-cidr';
import { DEFAULT_NETWORK, NETWORK_NAME } from '../spec/network-annotations';

export interface BridgeNetworkSpec {
  name: string;
  /** IPv4 CIDR, e.g. `10.77.0.0/16`. */
  subnet: string;
  /** The bridge's own address and the containers' default route; defaults to the first host. */
  gateway: string;
  /** The Linux bridge device (at most 15 characters). */
  bridge: string;
}

/** What `berth network ls` shows of any CNI list (bridge networks and others). */
export interface NetworkSummary {
  name: string;
  /** The first plugin's type: `bridge`, `macvlan`... */
  driver: string;
  bridge?: string;
  subnet?: string;
  gateway?: string;
  plugins: string[];
}

/** The network every berth host has: `--network bridge`. */
export const DEFAULT_BRIDGE_NETWORK: BridgeNetworkSpec = {
  name: DEFAULT_NETWORK,
  subnet: '10.77.0.0/16',
  gateway: '10.77.0.1',
  bridge: 'berth0',
};

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** `berth-NAME` when it fits a 15-character interface name, else `berth-` and a hash of the name. */
export function defaultBridgeName(name: string): string {
  const plain = `berth-${name}`;
  if (IFNAME.test(plain)) return plain;
  return `berth-${crypto.createHash('sha256').update(name).digest('hex').slice(0, 9)}`;
}

/** Check and complete a user's request (gateway and bridge defaults). */
export function bridgeNetworkSpec(input: { name: string; subnet: string; gateway?: string; bridge?: string }): BridgeNetworkSpec {
  if (!NETWORK_NAME.test(input.name)) throw new BerthError('INVALID_ARGUMENT', `"${input.name}" is not a network name (letters, digits, _ . -; up to 64)`);
  const cidr = parseIpv4Cidr(input.subnet, '--subnet');
  if (cidr.prefix > 30) throw new BerthError('INVALID_ARGUMENT', `--subnet ${input.subnet} is too small: use /30 or larger`);
  const range = hostRange(cidr);
  let gateway = input.gateway ?? formatIpv4(range.first);
  const gw = parseIpv4(gateway);
  if (gw === undefined) throw new BerthError('INVALID_ARGUMENT', `--gateway "${gateway}" is not an IPv4 address`);
  if (!cidrContains(cidr, gw) || gw < range.first || gw > range.last) {
    throw new BerthError('INVALID_ARGUMENT', `--gateway ${gateway} is not a host address of ${input.subnet}`);
  }
  gateway = formatIpv4(gw);
  const bridge = input.bridge ?? defaultBridgeName(input.name);
  if (!IFNAME.test(bridge)) throw new BerthError('INVALID_ARGUMENT', `--bridge "${bridge}" is not an interface name (up to 15 of A-Z a-z 0-9 _ . -)`);
  return { name: input.name, subnet: input.subnet, gateway, bridge };
}

export function bridgeConfList(spec: BridgeNetworkSpec): NetConfList {
  return {
    cniVersion: '1.0.0',
    name: spec.name,
    plugins: [
      {
        type: 'bridge',
        bridge: spec.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: spec.subnet, gateway: spec.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall' },
    ],
  };
}

/** Read the bridge, subnet and gateway back out of a list (first bridge plugin, first range). */
export function summarizeConfList(list: NetConfList): NetworkSummary {
  const first = list.plugins[0];
  const out: NetworkSummary = { name: list.name, driver: first?.type ?? '?', plugins: list.plugins.map((p) => p.type) };
  const bridgePlugin = list.plugins.find((p) => p.type === 'bridge');
  if (bridgePlugin && typeof bridgePlugin.bridge === 'string') out.bridge = bridgePlugin.bridge;
  else if (bridgePlugin) out.bridge = 'cni0';
  const ipam = (bridgePlugin ?? first)?.ipam as { subnet?: unknown; gateway?: unknown; ranges?: { subnet?: unknown; gateway?: unknown }[][] } | undefined;
  const range = ipam?.ranges?.[0]?.[0] ?? ipam;
  if (range && typeof range.subnet === 'string') out.subnet = range.subnet;
  if (range && typeof range.gateway === 'string') out.gateway = range.gateway;
  return out;
}
