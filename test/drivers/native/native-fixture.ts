/** Shared set-up for the native driver's integration tests: a manager on a temp state root. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerManager } from '../../../core/runtime/container-manager';
import { DriverRegistry } from '../../../core/registry/driver-registry';
import { StateStore } from '../../../core/state/state-store';
import { silentLogger } from '../../../core/logging/logger';
import { defaultSpec } from '../../../core/spec/default-spec';
import type { Spec } from '../../../core/spec/oci-spec';
import type { DriversConfig } from '../../../core/registry/drivers-config';
import { NativeDriver } from '../../../drivers/native/native-driver';
import { tempStateRoot } from '../../helpers/busybox-fixture';

import { captureStdio } from '../../helpers/capture-stdio';
export { captureStdio };

export function newId(): string {
  return `t-native-${crypto.randomBytes(4).toString('hex')}`;
}

export interface NativeFixture {
  driver: NativeDriver;
  manager: ContainerManager;
  stateRoot: string;
  cleanup: () => Promise<void>;
}

/** A manager of its own (new registry, new driver instance) on an existing state root: "a new CLI". */
export function managerOn(stateRoot: string): ContainerManager {
  const config = {
    preference: ['native'],
    hosts: [],
    drivers: { native: { module: path.resolve(__dirname, '../../../drivers/native'), options: {} } },
  } as unknown as DriversConfig;
  return new ContainerManager(new DriverRegistry(config), new StateStore(stateRoot), silentLogger);
}

export function nativeFixture(): NativeFixture {
  const state = tempStateRoot();
  const config: DriversConfig = {
    preference: ['native'],
    hosts: [],
    drivers: { native: { module: path.resolve(__dirname, '../../../drivers/native'), options: {} } },
  } as unknown as DriversConfig;
  const registry = new DriverRegistry(config);
  const manager = new ContainerManager(registry, new StateStore(state.root), silentLogger);
  const driver = new NativeDriver();
  return {
    driver,
    manager,
    stateRoot: state.root,
    cleanup: async () => {
      for (const id of await manager.store.ids()) await manager.delete(id, true).catch(() => undefined);
      state.cleanup();
    },
  };
}

/** The default spec on a rootfs, running `sh -c script`. */
export function shSpec(rootfs: string, script: string, patch: (s: Spec) => void = () => {}): Spec {
  const spec = defaultSpec({ rootfs, args: ['/bin/sh', '-c', script] });
  patch(spec);
  return spec;
}

/** Run a spec to completion through the manager, capturing stdout/stderr. */
export async function runToExit(manager: ContainerManager, spec: Spec, bundle: string) {
  const io = captureStdio();
  const id = newId();
  const driver = await (manager as unknown as { registry: DriverRegistry }).registry.get('native');
  try {
    await manager.create({ id, bundle, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
    await manager.start(id);
    const result = await manager.wait(id);
    const out = io.read();
    await manager.delete(id, true);
    return { ...result, ...out, id };
  } finally {
    io.close();
  }
}

export function mountinfoMentions(text: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(text);
}
