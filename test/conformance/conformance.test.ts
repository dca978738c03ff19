/**
 * The conformance suite: every case on every driver registered in drivers.json. Available drivers
 * run every case for real; each case must be honoured or refused clearly. Under CI=true an
 * unavailable driver fails (CI installs every backend); otherwise it is skipped with its reason.
 */
import * as path from 'node:path';
import { DriverRegistry } from '../../core/registry/driver-registry';
import { loadDriversConfig } from '../../core/registry/drivers-config';
import { ContainerManager } from '../../core/runtime/container-manager';
import { StateStore } from '../../core/state/state-store';
import { silentLogger } from '../../core/logging/logger';
import { CONFORMANCE_CASES } from '../../core/conformance/cases';
import { runCase } from '../../core/conformance/run-case';
import { testRootfs, tempStateRoot } from '../helpers/busybox-fixture';

const config = loadDriversConfig([path.join(__dirname, '../../drivers.json')]);
const only = process.env.BERTH_CONFORMANCE_DRIVERS?.split(',').filter(Boolean);
const driverNames = Object.keys(config.drivers).filter((n) => !only || only.includes(n));

describe.each(driverNames)('conformance on %s', (name) => {
  const state = tempStateRoot();
  const registry = new DriverRegistry(config);
  const manager = new ContainerManager(registry, new StateStore(state.root), silentLogger);
  let available = false;
  let rootfs = '';

  beforeAll(async () => {
    rootfs = await testRootfs();
    const driver = await registry.get(name);
    const fp = await registry.fingerprint(driver);
    available = fp.available;
    if (!available) {
      const why = `driver ${name} unavailable: ${fp.reason ?? '?'}${fp.installHint ? ` (${fp.installHint})` : ''}`;
      if (process.env.CI === 'true') throw new Error(`${why}; CI must provide it`);
      process.stderr.write(`SKIP conformance on ${why}\n`);
    }
  });
  afterAll(() => state.cleanup());

  test.each(CONFORMANCE_CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    if (!available) return;
    const driver = await registry.get(name);
    const r = await runCase(manager, driver, rootfs, c);
    if (r.outcome === 'failed') throw new Error(`${name} / ${c.id}: ${r.detail}`);
    expect(['honoured', 'refused']).toContain(r.outcome);
  }, 90000);
});
