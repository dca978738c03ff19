import * as path from 'node:path';
import type { Argv } from 'yargs';
import type { Feature } from '../core/driver/features';
import type { Spec } from '../core/spec/oci-spec';
import { buildSpec, type RunFlags } from '../core/spec/spec-builder';
import { assertRootfs, loadBundle } from '../core/spec/load-bundle';
import { ensureDefaultRootfs } from '../core/rootfs/busybox-rootfs';
import { BerthError } from '../core/errors/berth-error';
import type { Logger } from '../core/logging/logger';
import { withProgress } from './progress';

/** The `docker run`-style flags shared by run, create and compare. */
export function withRunFlags<T>(y: Argv<T>) {
  return y
    .option('bundle', { alias: 'b', type: 'string', describe: 'OCI bundle folder (config.json + rootfs); taken literally' })
    .option('rootfs', { type: 'string', describe: 'rootfs folder (default: a busybox rootfs built on first use)' })
    .option('hostname', { type: 'string', describe: 'container host name (needs a uts namespace)' })
    .option('env', { alias: 'e', type: 'string', array: true, describe: 'set NAME=VALUE (or pass NAME from the host)' })
    .option('workdir', { alias: 'w', type: 'string', describe: 'working directory inside the container' })
    .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
    .option('memory', { alias: 'm', type: 'string', describe: 'memory limit (e.g. 64m)' })
    .option('memory-reservation', { type: 'string', describe: 'memory soft limit' })
    .option('memory-swap', { type: 'string', describe: 'memory+swap limit, -1 for unlimited' })
    .option('cpus', { type: 'string', describe: 'number of CPUs (quota/period)' })
    .option('cpu-shares', { type: 'number', describe: 'relative CPU weight' })
    .option('cpuset-cpus', { type: 'string', describe: 'CPUs allowed (0-1)' })
    .option('pids-limit', { type: 'number', describe: 'maximum number of processes' })
    .option('cap-add', { type: 'string', array: true, describe: 'add a capability (or ALL)' })
    .option('cap-drop', { type: 'string', array: true, describe: 'drop a capability (or ALL)' })
    .option('read-only', { type: 'boolean', describe: 'mount the rootfs read-only' })
    .option('volume', { alias: 'v', type: 'string', array: true, describe: 'bind mount SRC:DST[:ro]' })
    .option('tmpfs', { type: 'string', array: true, describe: 'tmpfs mount DST[:OPTIONS]' })
    .option('network', { type: 'string', describe: 'none | host | bridge | bridge:NAME (berth network ls)' })
    .option('publish', { alias: 'p', type: 'string', array: true, describe: 'publish a port [hostIP:]hostPort:containerPort[/tcp|udp] (implies bridge)' })
    .option('ulimit', { type: 'string', array: true, describe: 'rlimit NAME=SOFT[:HARD] (nofile=1024)' })
    .option('sysctl', { type: 'string', array: true, describe: 'sysctl NAME=VALUE' })
    .option('security-opt', { type: 'string', array: true, describe: 'no-new-privileges | seccomp=FILE|unconfined' });
}

/** The parsed run flags: the builder's RunFlags, with the rootfs optional and a bundle instead. */
export type RunFlagArgs = Partial<Omit<RunFlags, 'args' | 'hostEnv'>> & { bundle?: string };

const SPEC_FLAGS: (keyof RunFlagArgs)[] = [
  'rootfs', 'hostname', 'env', 'workdir', 'user', 'memory', 'memoryReservation', 'memorySwap', 'cpus', 'cpuShares',
  'cpusetCpus', 'pidsLimit', 'capAdd', 'capDrop', 'readOnly', 'volume', 'tmpfs', 'network', 'publish', 'ulimit', 'sysctl', 'securityOpt',
];

export interface SpecSource {
  spec: Spec;
  /** Absolute bundle folder, or undefined for a flag-built spec (the state folder stands in). */
  bundle?: string;
}

/**
 * The spec for run/create: a bundle's config.json as is, or one built from flags. `declared` trims
 * only the default isolation (see spec-builder.ts); undefined keeps the full default.
 */
export async function specFromFlags(args: RunFlagArgs, command: string[], declared: ReadonlySet<Feature> | undefined, log: Logger): Promise<SpecSource> {
  if (args.bundle) {
    const mixed = SPEC_FLAGS.filter((f) => args[f] !== undefined && !(Array.isArray(args[f]) && (args[f] as unknown[]).length === 0));
    if (mixed.length > 0 || command.length > 0) {
      const names = [...mixed.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`), ...(command.length ? ['a command'] : [])];
      throw new BerthError('INVALID_ARGUMENT', `--bundle is taken literally: ${names.join(', ')} cannot be combined with it (edit config.json instead)`);
    }
    const bundle = loadBundle(args.bundle);
    return { spec: bundle.spec, bundle: bundle.dir };
  }
  let rootfs: string;
  if (args.rootfs) {
    rootfs = path.resolve(args.rootfs);
    assertRootfs(rootfs);
  } else {
    rootfs = await withProgress('building the default busybox rootfs', () => ensureDefaultRootfs());
  }
  const flags: RunFlags = { ...args, rootfs, args: command.length > 0 ? command : ['sh'], hostEnv: process.env };
  const built = buildSpec(flags, declared);
  for (const o of built.omittedDefaults) log.debug(`default ${o.field} left out: the driver does not declare ${o.feature}`);
  return { spec: built.spec };
}
