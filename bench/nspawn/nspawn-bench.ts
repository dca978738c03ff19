/**
 * Start-to-exit of `/bin/true` on the same busybox rootfs, in the same run, interleaved:
 *   raw        systemd-nspawn with the isolation berth's default spec asks for (read-only root,
 *              private network) and the environment berth gives it (no own seccomp filter, no
 *              /tmp tmpfs, critical logs only)
 *   rawDefault systemd-nspawn with nspawn's own defaults (its seccomp filter on), for reference
 *   rawSame    systemd-nspawn with exactly the argv and environment the driver gives it for the
 *              default spec (helper included), run by spawnSync: nspawn's own share of the work
 *   driver     the nspawn driver object alone: create + start + wait + delete (its state folder made before the clock)
 *   api        berth's ContainerManager in-process: create + start + wait + delete (default spec)
 *   cli        `berth run --rm --driver nspawn` as a new process (includes Node's start-up)
 * The cases run interleaved, in a new (seeded, shuffled) order every round. Each gets a fresh validated spec
 * built before its clock starts. Prints JSON: medians (ms) of >= 20 runs each, and berth's overhead over `raw` in percent.
 * berth's state is in a fresh folder of its default root /run/berth (a tmpfs, made one by berth when
 * it is on disk, as /run is on a usual host), or below --state-root DIR.
 * Usage (as root, after `npm run build`): node dist/bench/nspawn/nspawn-bench.js [--runs N] [--state-root DIR]
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ContainerManager, DEFAULT_STATE_ROOT, ensureVolatileRoot, mountOf, defaultSpec, DriverRegistry, loadDriversConfig, silentLogger, StateStore, validateSpec } from '../../core';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';
import { NSPAWN_ENVIRONMENT, nspawnArguments } from '../../drivers/nspawn/nspawn-arguments';
import { RawNspawnBaseline } from '../../drivers/nspawn/nspawn-raw-baseline';

const ROOTFS = '/var/lib/berth/test-rootfs/busybox';

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = Math.max(20, runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20);
  const rootfs = await ensureDefaultRootfs(ROOTFS);
  const top = path.resolve(__dirname, '../..');
  const cli = path.join(top, 'cli/main.js');
  // berth's state where berth keeps it by default: a fresh folder of its default root, which berth
  // makes a tmpfs when it is on disk (core/state/volatile-root.ts); --state-root DIR: below DIR.
  const stateArg = process.argv.indexOf('--state-root');
  const stateParent = stateArg > 0 ? process.argv[stateArg + 1] : undefined;
  if (!stateParent) await ensureVolatileRoot(DEFAULT_STATE_ROOT);
  const stateRoot = fs.mkdtempSync(path.join(stateParent ?? DEFAULT_STATE_ROOT, '.bench-nspawn-'));
  const registry = new DriverRegistry(loadDriversConfig([path.join(top, 'drivers.json')]));
  const manager = new ContainerManager(registry, new StateStore(stateRoot), silentLogger);
  const driver = await registry.get('nspawn');
  const devnull = fs.openSync('/dev/null', 'w');
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SYSTEMD_LOG_LEVEL: 'crit' };
  const baseline = new RawNspawnBaseline();
  const raw = await baseline.prepare(stateRoot, rootfs, ['/bin/true']);
  const rawArgv = raw.argv.slice(1);

  /** The default spec without seccomp (not supported by the nspawn driver; `berth run` trims it the same way). */
  const benchSpec = () => {
    const s = defaultSpec({ rootfs, args: ['/bin/true'] });
    delete s.linux!.seccomp;
    return validateSpec(s);
  };
  // Each case gets a freshly built and validated spec, made before its clock starts: building the
  // spec is the caller's work (as raw nspawn's argv is), not part of create + start + wait + delete.
  // So is the driver object's state folder (CreateRequest.stateDir exists before create; through
  // the API the manager makes it, inside the api case's clock).
  const cases: Record<string, (spec: ReturnType<typeof benchSpec>, stateDir: string) => Promise<void>> = {
    raw: async () => check(spawnSync('systemd-nspawn', rawArgv, { env: raw.env, stdio: 'ignore' }).status),
    rawSame: async (spec) => {
      const argv = nspawnArguments({ spec, machine: `berth-bench-${process.pid}`, directory: rootfs, initPath: path.join(top, 'drivers/nspawn/berth-nspawn-init'), hostHostname: os.hostname() });
      check(spawnSync(argv[0]!, argv.slice(1), { env: { ...NSPAWN_ENVIRONMENT }, stdio: 'ignore' }).status);
    },
    driver: async (spec, stateDir) => {
      const id = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      const ctx = { id, bundle: stateRoot, spec, stateDir, options: {} };
      const handle = await driver.create({ ...ctx, stdio: { kind: 'fds', stdin: null, stdout: devnull, stderr: devnull } });
      const ref = { ...ctx, handle };
      await driver.start(ref);
      check((await driver.wait(ref)).exitCode);
      await driver.delete(ref, false);
    },
    rawDefault: async () => check(spawnSync('systemd-nspawn', rawArgv, { env, stdio: 'ignore' }).status),
    api: async (spec) => {
      const id = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      await manager.create({ id, bundle: stateRoot, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: devnull, stderr: devnull } });
      await manager.start(id);
      check((await manager.wait(id)).exitCode);
      await manager.delete(id, false);
    },
    cli: async () => check(spawnSync(process.execPath, [cli, '--root', stateRoot, 'run', '--rm', '--driver', 'nspawn', '--rootfs', rootfs, '--', '/bin/true'], { stdio: 'ignore' }).status),
  };

  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const stateDirFor = (name: string): string => (name === 'driver' ? fs.mkdtempSync(path.join(stateRoot, 'd-')) : '');
  for (const name of Object.keys(cases)) await cases[name]!(benchSpec(), stateDirFor(name)); // warm-up: page cache, first-use costs
  // A new order every round (a seeded shuffle, the same in every run of the bench): no case always
  // follows the same one. A fixed or rotated order did: `raw` always ran after the long, idle-ending
  // cli case and `api` after rawDefault, whose network namespace the kernel tears down after exit.
  const names = Object.keys(cases);
  const random = seededRandom(20261129);
  for (let i = 0; i < runs; i++) {
    for (const name of shuffle(names, random)) {
      const fn = cases[name]!;
      const spec = benchSpec();
      const stateDir = stateDirFor(name);
      const t0 = process.hrtime.bigint();
      await fn(spec, stateDir).catch((err: Error) => {
        throw new Error(`case ${name}, round ${i + 1}: ${err.message}`);
      });
      samples[name]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  fs.rmSync(stateRoot, { recursive: true, force: true });
  await baseline.cleanup(stateRoot); // the empty cgroups raw nspawn leaves at the hierarchy roots

  const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v))]));
  const overhead = (k: string) => round(((medians[k]! - medians.raw!) / medians.raw!) * 100);
  const result = {
    bench: 'nspawn start-to-exit of /bin/true',
    date: new Date().toISOString(),
    host: { kernel: os.release(), cpus: os.cpus().length, loadavg: os.loadavg().map(round) },
    nspawnVersion: (await driver.fingerprint()).version ?? null,
    rootfs,
    stateRoot: { path: stateRoot, fs: mountOf(stateRoot).type },
    runs,
    medianMs: medians,
    p90Ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(quantile(v, 0.9))])),
    overheadPercentVsRaw: { rawSame: overhead('rawSame'), driver: overhead('driver'), api: overhead('api'), cli: overhead('cli') },
    goal: { apiOverheadPercentAtMost: 25, met: overhead('api') <= 25 },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** A small deterministic generator (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function check(code: number | null): void {
  if (code !== 0) throw new Error(`a run exited ${code}`);
}

function median(v: number[]): number {
  return quantile(v, 0.5);
}

function quantile(v: number[], q: number): number {
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((err: unknown) => {
  process.stderr.write(`nspawn bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
