import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { defaultSpec, isAlive, validateSpec, type ContainerRef, type Spec, type StdioTarget } from '../../../core';
import { LibvirtDriver, domainName } from '../../../drivers/libvirt/libvirt-driver';
import { tempStateRoot } from '../../helpers/busybox-fixture';

export const URI = 'lxc:///system';

/** A spec for the busybox rootfs with the default isolation this driver honours (no cgroup mount). */
export function specFor(rootfs: string, args: string[], edit: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec({ rootfs, args });
  s.mounts = (s.mounts ?? []).filter((m) => m.type !== 'cgroup');
  delete s.linux!.resources;
  delete s.linux!.seccomp; // not declared: the core refuses it before a driver sees it
  edit(s);
  return validateSpec(s);
}

export function virsh(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('virsh', ['-q', '-c', URI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What a deleted container must not leave: a domain, libvirt's log and run files, our state files. */
export function leftovers(ref: ContainerRef): string[] {
  const name = domainName(ref.id);
  const found: string[] = [];
  if (virsh('domstate', name).status === 0) found.push(`domain ${name}`);
  for (const f of [`/var/log/libvirt/lxc/${name}.log`, ...['pid', 'xml', 'sock', 'dev', 'devpts', 'fuse'].map((s) => `/run/libvirt/lxc/${name}.${s}`)]) {
    if (fs.existsSync(f)) found.push(f);
  }
  for (const f of ['start.fifo', 'status', 'domain.xml']) if (fs.existsSync(path.join(ref.stateDir, f))) found.push(f);
  const init = Number(ref.handle.initPid);
  if (init && isAlive(init)) found.push(`process ${init}`);
  const controller = Number(ref.handle.controllerPid);
  if (controller && isAlive(controller)) found.push(`controller ${controller}`);
  return found;
}

/** One driver, one state root, and every container made through it deleted at the end. */
export function harness() {
  const driver = new LibvirtDriver();
  const state = tempStateRoot();
  const refs: ContainerRef[] = [];
  return {
    driver,
    async create(spec: Spec, stdio: StdioTarget): Promise<ContainerRef> {
      const id = `t-libvirt-${crypto.randomBytes(4).toString('hex')}`;
      const stateDir = path.join(state.root, id);
      fs.mkdirSync(stateDir, { recursive: true });
      const ctx = { id, bundle: stateDir, spec, stateDir, options: { uri: URI } };
      const handle = await driver.create({ ...ctx, stdio });
      const ref = { ...ctx, handle };
      refs.push(ref);
      return ref;
    },
    /** For refusal tests: a context that is never created. */
    context(spec: Spec) {
      const id = `t-libvirt-${crypto.randomBytes(4).toString('hex')}`;
      const stateDir = path.join(state.root, id);
      fs.mkdirSync(stateDir, { recursive: true });
      return { id, bundle: stateDir, spec, stateDir, options: { uri: URI } };
    },
    async cleanup(): Promise<void> {
      for (const ref of refs) await driver.delete(ref, true).catch(() => undefined);
      state.cleanup();
    },
  };
}

/** A cgroup v1 file of the container, read on the host (the path libvirt gave the init). */
export function hostCgroupFile(initPid: number, controller: string, file: string): string {
  const line = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (!line) throw new Error(`no ${controller} cgroup for pid ${initPid}`);
  return fs.readFileSync(path.join('/sys/fs/cgroup', controller, line.split(':')[2]!, file), 'utf8').trim();
}
