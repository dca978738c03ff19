/** Shared set-up for the LXC integration tests: a private lxcpath per run, ids, specs and contexts. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec, validateSpec, type ContainerRef, type CreateRequest, type DriverHandle, type Spec, type StdioTarget } from '../../../core';
import { LxcDriver } from '../../../drivers/lxc/lxc-driver';

export interface LxcTestKit {
  lxcpath: string;
  driver: LxcDriver;
  request(spec: Spec, stdio: StdioTarget): CreateRequest;
  ref(request: CreateRequest, handle: DriverHandle): ContainerRef;
  cleanup(): Promise<void>;
}

export function newId(): string {
  return `t-lxc-${crypto.randomBytes(4).toString('hex')}`;
}

/** The runc-like default spec (with its seccomp profile) on `rootfs`, running `args`. */
export function specFor(rootfs: string, args: string[], edit?: (s: Spec) => void): Spec {
  const spec = defaultSpec({ rootfs, args });
  edit?.(spec);
  return validateSpec(spec);
}

export function lxcTestKit(): LxcTestKit {
  const lxcpath = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lxcpath-'));
  const driver = new LxcDriver({ lxcpath });
  const made: ContainerRef[] = [];
  const dirs: string[] = [];
  return {
    lxcpath,
    driver,
    request(spec, stdio) {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lxc-state-'));
      dirs.push(stateDir);
      return { id: newId(), bundle: stateDir, spec, stateDir, options: { lxcpath }, stdio };
    },
    ref(request, handle) {
      const ref = { ...request, handle };
      made.push(ref);
      return ref;
    },
    async cleanup() {
      for (const ref of made) await driver.delete(ref, true).catch(() => undefined);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      for (const shared of ['.rootfs-mount', '.seccomp']) fs.rmSync(path.join(lxcpath, shared), { recursive: true, force: true });
      fs.rmdirSync(lxcpath);
    },
  };
}
