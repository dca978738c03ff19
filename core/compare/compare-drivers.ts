import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import type { ExecutionDriver } from '../driver/execution-driver';
import type { Spec } from '../spec/oci-spec';
import type { ContainerManager } from '../runtime/container-manager';
import { requiredFeatures } from '../driver/required-features';
import { captureToFiles } from '../util/output-capture';

export interface DriverRun {
  driver: string;
  /** `refused` when berth refused the spec for this driver; `error` when the run itself failed. */
  outcome: 'ran' | 'refused' | 'error';
  message?: string;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** From the create call until the container is running (create + start). */
  createToRunningMs?: number;
  /** From the create call until the process exited. */
  totalMs?: number;
  /** Peak memory of the container's cgroup, where the driver's stats expose it. */
  peakMemoryBytes?: number;
  honoured: string[];
  refused: string[];
}

export interface Comparison {
  args: string[];
  runs: DriverRun[];
  /** Whether every driver that ran printed the same stdout / stderr. */
  identicalStdout: boolean;
  identicalStderr: boolean;
}

/** Run one spec through each driver in turn; a refusal or failure is recorded, never aborts the rest. */
export async function compareDrivers(
  manager: ContainerManager,
  drivers: ExecutionDriver[],
  spec: Spec,
  onProgress: (driver: string, phase: string) => void = () => {},
): Promise<Comparison> {
  const runs: DriverRun[] = [];
  for (const driver of drivers) {
    onProgress(driver.name, 'running');
    const run = await runOne(manager, driver, spec);
    onProgress(driver.name, run.outcome);
    runs.push(run);
  }
  const ran = runs.filter((r) => r.outcome === 'ran');
  const same = (key: 'stdout' | 'stderr') => ran.every((r) => r[key] === ran[0]?.[key]);
  return { args: spec.process?.args ?? [], runs, identicalStdout: same('stdout'), identicalStderr: same('stderr') };
}

async function runOne(manager: ContainerManager, driver: ExecutionDriver, spec: Spec): Promise<DriverRun> {
  const needs = [...new Set(requiredFeatures(spec).map((r) => r.feature))];
  const honoured = needs.filter((f) => driver.features.has(f));
  const refused = needs.filter((f) => !driver.features.has(f));
  const id = `compare-${driver.name}-${crypto.randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compare-'));
  const io = captureToFiles(dir);
  const base = { driver: driver.name, honoured, refused };
  try {
    const t0 = performance.now();
    try {
      await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { ...base, outcome: code === 'FEATURE_NOT_SUPPORTED' ? 'refused' : 'error', message: (err as Error).message };
    }
    await manager.start(id);
    const t1 = performance.now();
    const exit = await manager.wait(id);
    const t2 = performance.now();
    let peak: number | undefined;
    if (driver.features.has('op.stats')) {
      const stats = await manager.stats(id).catch(() => undefined);
      peak = stats?.memory?.maxUsageBytes;
    }
    return {
      ...base,
      outcome: 'ran',
      exitCode: exit.exitCode,
      ...io.read(),
      createToRunningMs: Math.round((t1 - t0) * 10) / 10,
      totalMs: Math.round((t2 - t0) * 10) / 10,
      ...(peak !== undefined ? { peakMemoryBytes: peak } : {}),
    };
  } catch (err) {
    return { ...base, outcome: 'error', message: (err as Error).message };
  } finally {
    await manager.delete(id, true).catch(() => undefined);
    io.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A minimal line diff of two outputs: `-` lines only in `a`, `+` lines only in `b`. */
export function lineDiff(a: string, b: string): string[] {
  const la = a.split('\n');
  const lb = b.split('\n');
  const out: string[] = [];
  const n = Math.max(la.length, lb.length);
  for (let i = 0; i < n; i++) {
    if (la[i] === lb[i]) continue;
    if (la[i] !== undefined) out.push(`-${la[i]}`);
    if (lb[i] !== undefined) out.push(`+${lb[i]}`);
  }
  return out;
}
