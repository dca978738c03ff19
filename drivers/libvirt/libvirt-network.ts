/**
 * Networking for the libvirt driver. A domain with a `network` namespace gets `<privnet/>` (its own
 * namespace with only `lo`); `bridge` (and published ports) then go through core's NetworkAttacher
 * on berth-lxc-init's /proc/PID/ns/net once the init reports ready, before start: the same CNI
 * networks, addresses, port forwarding and teardown as the native driver. libvirt's own
 * `<interface type='bridge'>` is not used: it leaves addressing to the container (busybox runs no
 * DHCP client) and libvirt has no port forwarding for LXC domains.
 * The attacher is created on first use, so runs without a bridge never load the CNI machinery.
 */
import {
  attachmentFromJson,
  attachmentToJson,
  createNetworkAttacher,
  networkRequestFromSpec,
  type JsonValue,
  type NetworkAttacher,
  type Spec,
} from '../../core';

let attacher: NetworkAttacher | undefined;
const network = (): NetworkAttacher => (attacher ??= createNetworkAttacher().attacher);

/** Attach a bridge-mode container; returns the attachment for the handle (undefined otherwise). */
export async function attachNetwork(id: string, spec: Spec, initPid: number): Promise<JsonValue | undefined> {
  const request = networkRequestFromSpec(spec);
  if (request.mode !== 'bridge') return undefined;
  return attachmentToJson(await network().attach(id, `/proc/${initPid}/ns/net`, request));
}

/** Undo attachNetwork; works without the record (half-created) and with the namespace gone. Idempotent. */
export async function detachNetwork(id: string, spec: Spec, record: JsonValue | undefined, netnsPath: string | undefined): Promise<void> {
  let request;
  try {
    request = networkRequestFromSpec(spec);
  } catch {
    request = undefined;
  }
  if (request?.mode !== 'bridge' && record === undefined) return;
  await network().detach(id, netnsPath, attachmentFromJson(record), request);
}
