/**
 * Density per driver: start N detached `sleep` containers, time to start them all, host memory used
 * per container (MemTotal - MemAvailable before and after, from /proc/meminfo), check every one is
 * really running, then delete them all.
 */
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import type { ExecutionDriver } from '../../core/driver/execution-driver';
import type { ContainerManager } from '../../core/runtime/container-manager';
import { buildSpec } from '../../core/spec/spec-builder';

export interface DensityResult {
  driver: string;
  count: number;
  started: number;
  running: number;
  totalStartMs: number;
  /** Time at which each container was running, in ms since the first create: the density curve. */
  curve: { n: number; ms: number }[];
  hostMemoryPerContainerKiB: number;
  cleanupMs: number;
  error?: string;
}

function usedKiB(): number {
  const info = fs.readFileSync('/proc/meminfo', 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return kib('MemTotal') - kib('MemAvailable');
}

export async function densityBench(
  manager: ContainerManager,
  driver: ExecutionDriver,
  rootfs: string,
  count: number,
  concurrency: number,
  tick: (phase: string) => void,
): Promise<DensityResult> {
  const spec = buildSpec({ rootfs, args: ['sleep', '3600'] }, driver.features).spec;
  const prefix = `density-${driver.name}-${crypto.randomBytes(3).toString('hex')}`;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const created: string[] = [];
  const curve: { n: number; ms: number }[] = [];
  const before = usedKiB();
  const t0 = performance.now();
  let error: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !error) {
      const id = ids[next++]!;
      try {
        created.push(id);
        await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'log' } });
        await manager.start(id);
        curve.push({ n: curve.length + 1, ms: Math.round(performance.now() - t0) });
        tick('start');
      } catch (err) {
        error = `${id}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const totalStartMs = Math.round(performance.now() - t0);
  await new Promise((r) => setTimeout(r, 1000));
  const after = usedKiB();
  let running = 0;
  for (const id of created) {
    const s = await manager.state(id).catch(() => undefined);
    if (s?.status === 'running') running += 1;
  }
  const c0 = performance.now();
  let i = 0;
  const cleaner = async () => {
    while (i < created.length) {
      const id = created[i++]!;
      await manager.delete(id, true).catch(() => undefined);
      tick('delete');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, cleaner));
  return {
    driver: driver.name,
    count,
    started: curve.length,
    running,
    totalStartMs,
    curve,
    hostMemoryPerContainerKiB: curve.length ? Math.round((after - before) / curve.length) : 0,
    cleanupMs: Math.round(performance.now() - c0),
    ...(error ? { error } : {}),
  };
}
