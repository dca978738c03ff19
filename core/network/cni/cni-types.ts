/**
 * The CNI configuration types berth's executor reads and writes (CNI spec 1.0.0, also 0.3.x/0.4.0):
 * a network configuration list (`.conflist`) of plugin configurations run as one chain, and the
 * runtime's per-attachment parameters.
 */

/** CNI spec versions the executor speaks. 0.1.0/0.2.0 results (ip4/ip6) are not supported. */
export const CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export type CniVersion = (typeof CNI_VERSIONS)[number];

export function isCniVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (CNI_VERSIONS as readonly string[]).includes(v);
}

/** One plugin's configuration inside a list: `type` names the binary; every other key is the plugin's own. */
export interface PluginConf {
  type: string;
  /** Runtime capabilities this plugin accepts through `runtimeConfig` (`{"portMappings": true}`). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (`.conflist`). */
export interface NetConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
  [key: string]: unknown;
}

/** The `portMappings` capability argument, as the portmap plugin reads it. */
export interface PortMappingEntry {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** Capability arguments a runtime can pass; each goes only to plugins declaring the capability. */
export interface CapabilityArgs {
  portMappings?: PortMappingEntry[];
  [capability: string]: unknown;
}

/** What identifies one attachment: the CNI_* parameters of every call. */
export interface RuntimeConf {
  containerId: string;
  /** Path to the network namespace (`/proc/PID/ns/net`, `/run/netns/NAME`). */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (`K8S_POD_NAME=...`); rarely used. */
  args?: [string, string][];
  capabilityArgs?: CapabilityArgs;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
