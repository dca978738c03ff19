/**
 * Networking for the native driver. `none` (a private namespace with only lo, brought up by
 * berth-native itself, as runc does) and `host` need nothing here; `bridge` (and published ports)
 * go through core's NetworkAttacher on the init's /proc/PID/ns/net, after clone and before start.
 * The attacher is created on first use, so runs without a bridge never load the CNI machinery.
 */
export { attachContainerNetwork as attachNetwork, detachContainerNetwork as detachNetwork } from '../../core';
