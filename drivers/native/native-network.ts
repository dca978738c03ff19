/**
 * Networking for the native driver. `none` (a private namespace with only lo, brought up by
 * berth-native itself, as runc does) and `host` need nothing here; `bridge` (and published ports)
 * go through core's NetworkAttacher on the init's /proc/PID/ns/net, after clone and before start.
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
