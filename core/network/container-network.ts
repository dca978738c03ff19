/**
 * The two calls a driver makes for bridge networking, on a container init's network namespace
 * (`/proc/PID/ns/net`): attach after the namespace exists and before start, detach on every
 * teardown path. The CNI machinery is created on first use, so runs without a bridge never load it.
 */
import type { JsonValue } from '../driver/execution-driver';
import type { Spec } from '../spec/oci-spec';
import type { NetworkAttacher } from './network-attacher';
import { attachmentFromJson, attachmentToJson } from './network-attachment';
import { createNetworkAttacher } from './network-module';
import { networkRequestFromSpec } from '../spec/network-annotations';

let attacher: NetworkAttacher | undefined;
const network = (): NetworkAttacher => (attacher ??= createNetworkAttacher().attacher);

/** Attach a bridge-mode container; returns the attachment for the driver's handle (undefined otherwise). */
export async function attachContainerNetwork(id: string, spec: Spec, initPid: number): Promise<JsonValue | undefined> {
  const request = networkRequestFromSpec(spec);
  if (request.mode !== 'bridge') return undefined;
  return attachmentToJson(await network().attach(id, `/proc/${initPid}/ns/net`, request));
}

/** Undo attachContainerNetwork; works without the record (half-created) and with the namespace gone. Idempotent. */
export async function detachContainerNetwork(id: string, spec: Spec, record: JsonValue | undefined, netnsPath: string | undefined): Promise<void> {
  let request;
  try {
    request = networkRequestFromSpec(spec);
  } catch {
    request = undefined;
  }
  if (request?.mode !== 'bridge' && record === undefined) return;
  await network().detach(id, netnsPath, attachmentFromJson(record), request);
}
