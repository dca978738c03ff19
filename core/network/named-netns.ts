/**
 * Named network namespaces (`ip netns`, /run/netns/NAME): for tests, for drivers whose backend joins
 * an existing namespace by path, and for the stand-in namespace of a DEL whose namespace is gone.
 */
import * as fs from 'node:fs';
import { runCommand } from '../util/run-command';

export const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

export async function createNamedNetns(name: string): Promise<string> {
  await runCommand(['ip', 'netns', 'add', name]);
  return netnsPath(name);
}

/** Remove a named namespace; nothing to do when it is already gone. */
export async function deleteNamedNetns(name: string): Promise<void> {
  if (!fs.existsSync(netnsPath(name))) return;
  await runCommand(['ip', 'netns', 'delete', name]);
}

/** The identity of a namespace file (device and inode of its nsfs inode), or undefined when there is none. */
export function netnsIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = fs.statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** The network namespace this process runs in (the host's, for the CLI). */
export function ownNetnsIdentity(): { dev: number; ino: number } | undefined {
  return netnsIdentity('/proc/self/ns/net');
}
