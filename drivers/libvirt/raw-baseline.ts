/**
 * The raw libvirt reference for `berth bench`: `virsh create` of a bare LXC domain whose init is
 * the command itself, then wait until libvirt has removed the transient domain (its pid file is
 * gone). One argv per run: a fixed sh script whose data arrive as positional parameters.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RawBaseline } from '../../core';
import { bareLxcDomainXml } from './domain-xml';

const LIBVIRT_LXC_RUN = '/run/libvirt/lxc';
const WAIT_SCRIPT = 'virsh -q -c "$1" create "$2" >/dev/null || exit 1; while [ -e "$3" ]; do sleep 0.002; done';

export class VirshCreateBaseline implements RawBaseline {
  readonly name = 'virsh create + wait';

  constructor(private readonly uri: string) {}

  async prepare(workDir: string, rootfs: string, args: string[]): Promise<{ argv: string[] }> {
    const name = domainNameFor(workDir);
    const xml = path.join(workDir, 'raw-domain.xml');
    fs.writeFileSync(xml, bareLxcDomainXml(name, rootfs, args, os.totalmem()));
    return { argv: ['sh', '-c', WAIT_SCRIPT, 'virsh-create-wait', this.uri, xml, path.join(LIBVIRT_LXC_RUN, `${name}.pid`)] };
  }

  async cleanup(workDir: string): Promise<void> {
    const name = domainNameFor(workDir);
    for (const f of [`${name}.sock`, `${name}.dev`, `${name}.devpts`, `${name}.fuse`]) fs.rmSync(path.join(LIBVIRT_LXC_RUN, f), { recursive: true, force: true });
    fs.rmSync(`/var/log/libvirt/lxc/${name}.log`, { force: true });
  }
}

function domainNameFor(workDir: string): string {
  return `berth-raw-${path.basename(workDir).replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
