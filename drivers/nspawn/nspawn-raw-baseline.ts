/**
 * The raw tool berth's nspawn driver is measured against (`berth bench`, bench/nspawn): plain
 * systemd-nspawn without systemd, with the isolation the default spec asks for (read-only root,
 * private network) and the environment the driver gives nspawn (see NSPAWN_ENVIRONMENT).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawBaseline } from '../../core';
import { NSPAWN_ENVIRONMENT } from './nspawn-arguments';

/** Raw nspawn run from the root cgroup makes these (nspawn's placement on a hybrid host) and leaves them. */
const RAW_LEFTOVERS = ['systemd/payload', 'systemd/supervisor', 'unified/payload', 'unified/supervisor'].map((d) => path.join('/sys/fs/cgroup', d));

export function rawNspawnArgv(rootfs: string, args: readonly string[]): string[] {
  return ['systemd-nspawn', '-q', '--register=no', '--keep-unit', '--console=pipe', '--read-only', '--private-network', `--directory=${rootfs}`, ...args];
}

export class RawNspawnBaseline implements RawBaseline {
  readonly name = 'systemd-nspawn';
  private ours: string[] = [];

  async prepare(_workDir: string, rootfs: string, args: string[]): Promise<{ argv: string[]; env?: NodeJS.ProcessEnv }> {
    this.ours = RAW_LEFTOVERS.filter((d) => !fs.existsSync(d));
    return { argv: rawNspawnArgv(rootfs, args), env: { ...NSPAWN_ENVIRONMENT } };
  }

  /** Remove the empty cgroups the raw runs left (only those that were not there before). */
  async cleanup(_workDir: string): Promise<void> {
    for (const d of this.ours) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* absent, or in use */
      }
    }
  }
}
