/**
 * DEL for an attachment whose network namespace is already gone (the container's init exited and
 * nobody kept the namespace), or whose interface is (deleted from inside the container). Most plugins then skip part of their teardown: `bridge` releases the
 * lease but, finding no interface, leaves its per-container masquerade chain in the nat table.
 *
 * So berth recreates just enough of the namespace for the plugins to finish their own cleanup: a
 * temporary named namespace holding an interface of the recorded name with the recorded addresses
 * (one end of a veth pair, which needs no extra kernel module). DEL runs against it exactly as it
 * would have against the real one; then the stand-in is deleted. No iptables rule is touched by
 * berth itself.
 */
import * as crypto from 'node:crypto';
import { runCommand } from '../util/run-command';
import { createNamedNetns, deleteNamedNetns } from './named-netns';

export async function withStandInNetns<T>(ifName: string, addresses: readonly string[], fn: (netnsPath: string) => Promise<T>): Promise<T> {
  const name = `berth-gc-${crypto.randomBytes(4).toString('hex')}`;
  const path = await createNamedNetns(name);
  try {
    await runCommand(['ip', '-n', name, 'link', 'add', ifName, 'type', 'veth', 'peer', 'name', 'gc-peer']);
    for (const address of addresses) await runCommand(['ip', '-n', name, 'addr', 'add', address, 'dev', ifName]);
    return await fn(path);
  } finally {
    await deleteNamedNetns(name);
  }
}
