/**
 * The record of one container's network attachment: everything `detach` needs to tear it down
 * later, in another process, even after the network's file was removed or the namespace is gone
 * (the CNI list used, the cached ADD result, the published ports, the namespace's identity).
 * A driver stores it in its handle as JSON (`attachmentToJson`) and hands it back to `detach`.
 */
import { z } from 'zod';
import { BerthError } from '../errors/berth-error';
import type { JsonValue } from '../driver/execution-driver';
import type { NetworkMode, PortPublish } from '../spec/network-annotations';
import type { CniResult } from './cni/cni-result';
import type { NetConfList } from './cni/cni-types';

export interface NetworkAttachment {
  version: 1;
  mode: NetworkMode;
  containerId: string;
  /** The network attached to (bridge mode). */
  network?: string;
  /** The container-side interface the chain created (`eth0`). */
  ifName?: string;
  /** The namespace at attach time: path and nsfs identity, to tell a reused /proc/PID path apart. */
  netns?: { path: string; dev: number; ino: number };
  /** Whether loopback was brought up (none and bridge modes). */
  loopback: boolean;
  /** The CNI list used for ADD, kept for DEL. */
  config?: NetConfList;
  publish: PortPublish[];
  /** The chain's ADD result, passed as prevResult to CHECK and DEL. */
  result?: CniResult;
  /** Addresses inside the container, CIDR notation (`10.77.0.5/16`). */
  ips: string[];
  gateway?: string;
  /** Interfaces the chain reported; `sandbox` set for those inside the container. */
  interfaces: { name: string; mac?: string; sandbox?: string }[];
}

const schema = z.object({
  version: z.literal(1),
  mode: z.enum(['none', 'host', 'bridge']),
  containerId: z.string().min(1),
  network: z.string().optional(),
  ifName: z.string().optional(),
  netns: z.object({ path: z.string(), dev: z.number(), ino: z.number() }).optional(),
  loopback: z.boolean(),
  config: z.looseObject({ cniVersion: z.string(), name: z.string(), plugins: z.array(z.looseObject({ type: z.string() })) }).optional(),
  publish: z.array(
    z.object({ hostIp: z.string().optional(), hostPort: z.number().int(), containerPort: z.number().int(), protocol: z.enum(['tcp', 'udp']) }),
  ),
  result: z.looseObject({ cniVersion: z.string() }).optional(),
  ips: z.array(z.string()),
  gateway: z.string().optional(),
  interfaces: z.array(z.object({ name: z.string(), mac: z.string().optional(), sandbox: z.string().optional() })),
});

/** The record as plain JSON for a driver handle. */
export function attachmentToJson(a: NetworkAttachment): JsonValue {
  return JSON.parse(JSON.stringify(a)) as JsonValue;
}

/** Read a record back from a handle; undefined stays undefined (a half-created container). */
export function attachmentFromJson(value: JsonValue | undefined): NetworkAttachment | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BerthError('STATE_CORRUPT', `network attachment record: ${issue.path.join('.') || 'record'}: ${issue.message}`);
  }
  return parsed.data as NetworkAttachment;
}
