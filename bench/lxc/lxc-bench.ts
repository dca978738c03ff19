#!/usr/bin/env node
/**
 * Start-to-exit latency of `/bin/true` on one busybox rootfs, in one run, interleaved round by round
 * (the order of the paths rotates every round):
 *  - raw: `lxc-execute -f CONF -- /bin/true`, CONF being the very config the driver renders for the
 *    same spec (without berth's start gate: the driver's rawBaseline), spawned from Node;
 *  - api: ContainerManager create + start + wait + delete through the lxc driver (in process);
 *  - driver: the same four calls on the driver object alone (no records, no locks): berth's LXC
 *    mechanism (supervisor, start gate) without the core's bookkeeping;
 *  - cli: `berth run --rm --driver lxc -- /bin/true` (a new Node process each time).
 * The first --warmup rounds (default 3) run every path the same way and are not recorded: they take
 * the JIT and the page cache out of the first samples, for raw as much as for berth.
 * Prints JSON: medians and p90 in ms, and the API's and CLI's overhead over raw. Needs root, LXC, a build.
 * berth's state (records and the driver's state folders, for the api, driver and cli paths alike) is
 * in a fresh folder of berth's default root, /run/berth, which berth makes a tmpfs when it is on disk
 * (core/state/volatile-root.ts), as /run is on a usual host; --state-root DIR puts it below DIR
 * instead (e.g. a folder on disk, to see what the file system costs). LXC's files (lxcpath) stay in
 * the work folder in os.tmpdir() for raw and berth alike.
 * Usage: node dist/bench/lxc/lxc-bench.js [--runs N] [--warmup N] [--state-root DIR]
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ContainerManager, DEFAULT_STATE_ROOT, DriverRegistry, ensureVolatileRoot, mountOf, StateStore, type DriversConfig, type Logger } from '../../core';
import { buildSpec } from '../../core/spec/spec-builder';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';

const TOP = path.resolve(__dirname, '..', '..', '..');
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function argString(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function run(argv: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: env ?? process.env });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 255));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { runs: s.length, medianMs: round(median), p90Ms: round(at(0.9)), minMs: round(s[0]!), maxMs: round(s[s.length - 1]!) };
}

const round = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const runs = argValue('--runs', 25);
  const warmup = argValue('--warmup', 3);
  const rootfs = await ensureDefaultRootfs();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lxc-bench-'));
  const lxcpath = path.join(work, 'lxc');
  fs.mkdirSync(lxcpath);
  const stateParent = argString('--state-root');
  // berth's state where berth keeps it by default: a fresh folder in the default root, which berth
  // makes a tmpfs on a host whose /run is on disk (core/state/volatile-root.ts); or below --state-root.
  if (!stateParent) await ensureVolatileRoot(DEFAULT_STATE_ROOT);
  const stateRoot = fs.mkdtempSync(path.join(stateParent ?? DEFAULT_STATE_ROOT, stateParent ? 'berth-lxc-bench-state-' : '.bench-lxc-'));
  const configFile = path.join(work, 'drivers.json');
  fs.writeFileSync(configFile, JSON.stringify({ preference: ['lxc'], drivers: { lxc: { module: path.join(TOP, 'dist', 'drivers', 'lxc'), options: { lxcpath } } } }));
  const config: DriversConfig = { drivers: { lxc: { module: path.join(TOP, 'dist', 'drivers', 'lxc'), options: { lxcpath }, baseDir: work } }, preference: ['lxc'], hosts: [], sources: [configFile] };
  const registry = new DriverRegistry(config);
  const driver = await registry.get('lxc');
  const manager = new ContainerManager(registry, new StateStore(stateRoot), quiet);
  // The spec `berth run` builds for this driver: the default isolation it declares.
  const spec = buildSpec({ rootfs, args: ['/bin/true'] }, driver.features).spec;
  const devnull = fs.openSync('/dev/null', 'w');
  // The raw reference: lxc-execute with the config the driver renders for this very spec, minus
  // berth's start gate (the driver's rawBaseline, as `berth bench` uses it).
  const raw0 = await driver.rawBaseline!.prepare(path.join(work, 'raw'), rootfs, ['/bin/true']);
  const rawArgv = raw0.argv;

  const samples = { raw: [] as number[], api: [] as number[], driver: [] as number[], cli: [] as number[] };
  const failures: string[] = [];
  const berth = path.join(TOP, 'bin', 'berth');
  // One round runs every path once; the order rotates round by round, so that no path always follows
  // the same one (a container's teardown leaves kernel work, e.g. cgroup release, behind it).
  const paths: Array<[keyof typeof samples, (i: number) => Promise<void>]> = [
    ['raw', async (i) => {
      const code = await run(rawArgv);
      if (code !== 0) failures.push(`raw run ${i}: exit ${code}`);
    }],
    ['api', async (i) => {
      const id = `bench-api-${i + warmup}`;
      await manager.create({ id, bundle: work, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: devnull, stderr: devnull } });
      await manager.start(id);
      const r = await manager.wait(id);
      await manager.delete(id, false);
      if (r.exitCode !== 0) failures.push(`api run ${i}: exit ${r.exitCode}`);
    }],
    ['driver', async (i) => {
      const id = `bench-drv-${i + warmup}`;
      const stateDir = path.join(stateRoot, `.${id}`);
      fs.mkdirSync(stateDir);
      const request = { id, bundle: work, spec, stateDir, options: { lxcpath }, stdio: { kind: 'fds' as const, stdin: null, stdout: devnull, stderr: devnull } };
      const ref = { ...request, handle: await driver.create(request) };
      await driver.start(ref);
      const r = await driver.wait(ref);
      await driver.delete(ref, false);
      fs.rmSync(stateDir, { recursive: true });
      if (r.exitCode !== 0) failures.push(`driver run ${i}: exit ${r.exitCode}`);
    }],
    ['cli', async (i) => {
      const code = await run([process.execPath, berth, '--root', stateRoot, '--config', configFile, 'run', '--rm', '--driver', 'lxc', '--rootfs', rootfs, '--', '/bin/true']);
      if (code !== 0) failures.push(`cli run ${i}: exit ${code}`);
    }],
  ];
  for (let i = -warmup; i < runs; i++) {
    if (i === 0) for (const list of Object.values(samples)) list.length = 0;
    const shift = (i + warmup) % paths.length;
    for (const [name, fn] of [...paths.slice(shift), ...paths.slice(0, shift)]) samples[name].push(await timed(() => fn(i)));
  }
  fs.closeSync(devnull);
  const raw = summary(samples.raw);
  const api = summary(samples.api);
  const direct = summary(samples.driver);
  const cli = summary(samples.cli);
  const result = {
    bench: 'lxc start-to-exit of /bin/true',
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, kernel: os.release(), lxc: (await driver.fingerprint()).version ?? '?' },
    rootfs,
    warmupRounds: warmup,
    stateRoot: { path: stateRoot, fs: mountOf(stateRoot).type },
    lxcpath: { path: lxcpath, fs: mountOf(lxcpath).type },
    raw: { tool: 'lxc-execute -f CONF -- /bin/true', ...raw },
    api: { path: 'ContainerManager create+start+wait+delete', ...api },
    driver: { path: 'LxcDriver create+start+wait+delete (no ContainerManager)', ...direct },
    cli: { path: 'berth run --rm --driver lxc -- /bin/true', ...cli },
    apiOverheadPct: round(((api.medianMs - raw.medianMs) / raw.medianMs) * 100),
    driverOverheadPct: round(((direct.medianMs - raw.medianMs) / raw.medianMs) * 100),
    cliOverheadPct: round(((cli.medianMs - raw.medianMs) / raw.medianMs) * 100),
    goal: 'apiOverheadPct <= 25',
    failures,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(stateRoot, { recursive: true, force: true });
  process.exitCode = failures.length > 0 ? 1 : 0;
}

void main();
