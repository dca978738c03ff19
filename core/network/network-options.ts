/** Where berth keeps network configuration and finds CNI plugins; overridable for tests. */
import { DEFAULT_CNI_PATH } from './cni/cni-plugin-exec';

export const NetworkOptions = Symbol.for('berth.NetworkOptions');

export interface NetworkOptions {
  /** Folder of `<name>.conflist` files: user-defined networks, and an optional berth0 override. */
  configDir: string;
  /** Folders searched for CNI plugin binaries. */
  cniPath: readonly string[];
  /** host-local IPAM's data folder (its default); leases live in `<ipamDir>/<network>/`. */
  ipamDir: string;
  /** berth's own network state (published-port reservations). */
  stateDir: string;
}

/** Networks are host configuration, next to /etc/berth/drivers.json. */
export const DEFAULT_NETWORK_DIR = '/etc/berth/networks';
export const DEFAULT_IPAM_DIR = '/var/lib/cni/networks';
export const DEFAULT_NETWORK_STATE_DIR = '/var/lib/berth/network';

/** Defaults, overridden by BERTH_NETWORK_DIR, BERTH_CNI_PATH (colon-separated) and BERTH_NETWORK_STATE_DIR. */
export function networkOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): NetworkOptions {
  return {
    configDir: env.BERTH_NETWORK_DIR || DEFAULT_NETWORK_DIR,
    cniPath: env.BERTH_CNI_PATH ? env.BERTH_CNI_PATH.split(':').filter(Boolean) : DEFAULT_CNI_PATH,
    ipamDir: DEFAULT_IPAM_DIR,
    stateDir: env.BERTH_NETWORK_STATE_DIR || DEFAULT_NETWORK_STATE_DIR,
  };
}
