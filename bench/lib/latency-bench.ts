/**
 * Latency per driver: start-to-exit of /bin/true through berth's API, create-to-running, an exec
 * round trip; next to the driver's raw backend tool and the bare kernel floor, in the same run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { ExecutionDriver } from '../../core/driver/execution-driver';
import type { ContainerManager } from '../../core/runtime/container-manager';
import { buildSpec } from '../../core/spec/spec-builder';
import { sampleStats, timed, type SampleStats } from './sample-stats';

export interface DriverLatency {
  driver: string;
  startToExit: SampleStats;
  createToRunning: SampleStats;
  execRoundTrip?: SampleStats;
  raw?: { name: string; startToExit: SampleStats } | { name: string; error: string };
}

export async function driverLatency(
  manager: ContainerManager,
  driver: ExecutionDriver,
  rootfs: string,
  runs: number,
  tick: () => void,
): Promise<DriverLatency> {
  const spec = () => buildSpec({ rootfs, args: ['/bin/true'] }, driver.features).spec;
  const newId = () => `bench-${driver.name}-${crypto.randomBytes(4).toString('hex')}`;
  const startToExit: number[] = [];
  const createToRunning: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = newId();
    const t0 = performance.now();
    await manager.create({ id, bundle: manager.store.dir(id), spec: spec(), driver, stdio: { kind: 'fds', stdin: null, stdout: 1, stderr: 2 } });
    await manager.start(id);
    createToRunning.push(performance.now() - t0);
    await manager.wait(id);
    startToExit.push(performance.now() - t0);
    await manager.delete(id, true);
    tick();
  }
  const result: DriverLatency = { driver: driver.name, startToExit: sampleStats(startToExit), createToRunning: sampleStats(createToRunning) };
  if (driver.features.has('op.exec')) result.execRoundTrip = await execLatency(manager, driver, rootfs, runs, newId());
  const raw = await rawLatency(driver, rootfs, runs);
  if (raw) result.raw = raw;
  return result;
}

async function execLatency(manager: ContainerManager, driver: ExecutionDriver, rootfs: string, runs: number, id: string): Promise<SampleStats> {
  const spec = buildSpec({ rootfs, args: ['sleep', '600'] }, driver.features).spec;
  await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'log' } });
  try {
    await manager.start(id);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await timed(() => manager.exec(id, { args: ['/bin/true'], stdio: { stdin: null, stdout: 1, stderr: 2 } })));
    return sampleStats(samples);
  } finally {
    await manager.delete(id, true);
  }
}

async function rawLatency(driver: ExecutionDriver, rootfs: string, runs: number): Promise<DriverLatency['raw']> {
  const baseline = driver.rawBaseline;
  if (!baseline) return undefined;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `berth-raw-${driver.name}-`));
  try {
    const { argv, env } = await baseline.prepare(work, rootfs, ['/bin/true']);
    return { name: baseline.name, startToExit: sampleStats(runMany(argv, runs, env)) };
  } catch (err) {
    return { name: baseline.name, error: (err as Error).message };
  } finally {
    await baseline.cleanup?.(work).catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Run a command `runs` times, each timed from spawn to exit; a failing run is an error. */
export function runMany(argv: string[], runs: number, env?: NodeJS.ProcessEnv): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    samples.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).trim().split('\n').pop()}`);
  }
  return samples;
}

/** The bare kernel floor: unshare into fresh namespaces and chroot, no runtime at all. */
export function kernelFloor(rootfs: string, runs: number): SampleStats {
  return sampleStats(runMany(['unshare', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', `--root=${rootfs}`, '/bin/true'], runs));
}
