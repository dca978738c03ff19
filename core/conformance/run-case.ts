import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import type { ExecutionDriver } from '../driver/execution-driver';
import type { Spec } from '../spec/oci-spec';
import type { ContainerManager } from '../runtime/container-manager';
import type { CaseEnv, CaseOutput, CaseResult, ConformanceCase, OperationCase, ProcessCase } from './conformance-case';
import { buildSpec } from '../spec/spec-builder';
import { unsupportedRequirements } from '../driver/feature-check';
import { BerthError } from '../errors/berth-error';
import { FeatureNotSupportedError } from '../errors/feature-not-supported-error';
import { captureToFiles } from '../util/output-capture';

const CASE_TIMEOUT_MS = 60000;

/** Run one case on one driver: honoured (verified), refused (clearly, nothing created) or failed. */
export async function runCase(manager: ContainerManager, driver: ExecutionDriver, rootfs: string, c: ConformanceCase): Promise<CaseResult> {
  const started = performance.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-conf-'));
  const env: CaseEnv = { scratch, hostNamespace: (type) => fs.readlinkSync(`/proc/self/ns/${type}`) };
  const ids: string[] = [];
  const newId = () => {
    const id = `conf-${driver.name}-${c.id.replace(/[^A-Za-z0-9]+/g, '-')}-${crypto.randomBytes(3).toString('hex')}`.slice(0, 120);
    ids.push(id);
    return id;
  };
  const result = (outcome: CaseResult['outcome'], detail?: string): CaseResult => ({
    driver: driver.name,
    caseId: c.id,
    title: c.title,
    outcome,
    ...(detail ? { detail } : {}),
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const run = c.kind === 'process' ? runProcessCase(manager, driver, rootfs, c, env, newId) : runOperationCase(manager, driver, rootfs, c, env, newId);
    const verdict = await withTimeout(run, CASE_TIMEOUT_MS);
    return result(verdict.outcome, verdict.detail);
  } catch (err) {
    return result('failed', `${(err as Error).message}`);
  } finally {
    for (const id of ids) await manager.delete(id, true).catch(() => undefined);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

type Verdict = { outcome: CaseResult['outcome']; detail?: string };

function baseSpec(driver: ExecutionDriver, rootfs: string, args: string[]): Spec {
  return buildSpec({ rootfs, args }, driver.features).spec;
}

async function runProcessCase(
  manager: ContainerManager,
  driver: ExecutionDriver,
  rootfs: string,
  c: ProcessCase,
  env: CaseEnv,
  newId: () => string,
): Promise<Verdict> {
  const spec = baseSpec(driver, rootfs, c.args);
  c.mutate?.(spec, env);
  const missing = unsupportedRequirements(spec, driver.features);
  const lacksCaseFeature = c.features.some((f) => !driver.features.has(f));
  const id = newId();
  const io = captureToFiles(env.scratch);
  try {
    if (missing.length > 0 || lacksCaseFeature) {
      return await expectRefusal(manager, driver, id, spec, io, lacksCaseFeature && missing.length === 0);
    }
    try {
      await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
    } catch (err) {
      // A driver may refuse one value of a declared feature (the contract: FEATURE_NOT_SUPPORTED naming
      // the field, thrown from create before anything exists). That is a clear refusal, not a failure.
      if (!(err instanceof BerthError) || err.code !== 'FEATURE_NOT_SUPPORTED') throw err;
      if (await manager.store.exists(id)) return { outcome: 'failed', detail: `refused, but a state folder was left behind: ${err.message}` };
      return { outcome: 'refused', detail: err.message };
    }
    await manager.start(id);
    const exit = await manager.wait(id);
    const out: CaseOutput = { exitCode: exit.exitCode, ...io.read() };
    const problem = checkOutput(c, out, env);
    return problem ? { outcome: 'failed', detail: problem } : { outcome: 'honoured' };
  } finally {
    io.close();
  }
}

async function expectRefusal(
  manager: ContainerManager,
  driver: ExecutionDriver,
  id: string,
  spec: Spec,
  io: { stdout: number; stderr: number },
  specNeedsNothing: boolean,
): Promise<Verdict> {
  if (specNeedsNothing) {
    return { outcome: 'failed', detail: 'case bug: the driver lacks the case feature but the spec needs nothing it lacks' };
  }
  try {
    await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
  } catch (err) {
    if (!(err instanceof FeatureNotSupportedError) || err.driver !== driver.name) {
      return { outcome: 'failed', detail: `expected a feature refusal, got: ${(err as Error).message}` };
    }
    if (await manager.store.exists(id)) return { outcome: 'failed', detail: 'refused, but a state folder was left behind' };
    return { outcome: 'refused', detail: err.message };
  }
  return { outcome: 'failed', detail: 'spec needs an undeclared feature but create succeeded (ignored silently)' };
}

function checkOutput(c: ProcessCase, out: CaseOutput, env: CaseEnv): string | undefined {
  const e = c.expect;
  const show = () => `(exit ${out.exitCode}, stdout ${JSON.stringify(out.stdout.slice(0, 300))}, stderr ${JSON.stringify(out.stderr.slice(0, 300))})`;
  if (e.exitCode !== undefined && out.exitCode !== e.exitCode) return `exit code ${out.exitCode}, expected ${e.exitCode} ${show()}`;
  const match = (what: 'stdout' | 'stderr') => {
    const want = e[what];
    if (want === undefined) return undefined;
    const ok = typeof want === 'string' ? out[what] === want : want.test(out[what]);
    return ok ? undefined : `${what} does not match ${String(want)} ${show()}`;
  };
  return match('stdout') ?? match('stderr') ?? e.check?.(out, env);
}

async function runOperationCase(
  manager: ContainerManager,
  driver: ExecutionDriver,
  rootfs: string,
  c: OperationCase,
  env: CaseEnv,
  newId: () => string,
): Promise<Verdict> {
  const lacking = c.features.filter((f) => !driver.features.has(f));
  const harness = {
    manager,
    driver,
    env,
    newId,
    spec: (args: string[]) => baseSpec(driver, rootfs, args),
    startDetached: async (args: string[], mutate?: (spec: Spec) => void) => {
      const id = newId();
      const spec = baseSpec(driver, rootfs, args);
      mutate?.(spec);
      await manager.create({ id, bundle: manager.store.dir(id), spec, driver, stdio: { kind: 'log' } });
      await manager.start(id);
      return id;
    },
  };
  try {
    await c.run(harness);
  } catch (err) {
    const refusal = err instanceof BerthError && (err.code === 'OPERATION_NOT_SUPPORTED' || err.code === 'FEATURE_NOT_SUPPORTED');
    if (refusal && lacking.length > 0) return { outcome: 'refused', detail: err.message };
    return { outcome: 'failed', detail: (err as Error).message };
  }
  if (lacking.length > 0) return { outcome: 'failed', detail: `driver does not declare ${lacking.join(', ')} but the operation worked: declare it` };
  return { outcome: 'honoured' };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
