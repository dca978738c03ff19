/**
 * Networking for the libvirt driver. A domain with a `network` namespace gets `<privnet/>` (its own
 * namespace with only `lo`); `bridge` (and published ports) then go through core's NetworkAttacher
 * on berth-lxc-init's /proc/PID/ns/net once the init reports ready, before start: the same CNI
 * networks, addresses, port forwarding and teardown as the native driver. libvirt's own
 * `<interface type='bridge'>` is not used: it leaves addressing to the container (busybox runs no
 * DHCP client) and libvirt has no port forwarding for LXC domains.
 * The attacher is created on first use, so runs without a bridge never load the CNI machinery.
 */
export { attachContainerNetwork as attachNetwork, detachContainerNetwork as detachNetwork } from '../../core';
