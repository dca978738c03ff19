/**
 * bench/native: start-to-exit of /bin/true (median of N runs) through berth's library API and CLI
 * on the native driver, against `runc run` and the bare kernel floor (`unshare ... --root`), all
 * on the same busybox rootfs in one run; then M detached `sleep` containers started at once
 * (total time, each monitor's RSS). Prints one JSON document.
 *
 *   node dist/bench/native/native-bench.js [--runs 20] [--sleepers 200]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import 'reflect-metadata';
import { ContainerManager } from '../../core/runtime/container-manager';
import { DriverRegistry } from '../../core/registry/driver-registry';
import { loadDriversConfig } from '../../core/registry/drivers-config';
import { StateStore } from '../../core/state/state-store';
import { silentLogger } from '../../core/logging/logger';
import { defaultSpec } from '../../core/spec/default-spec';
import { buildBusyboxRootfs } from '../../core/rootfs/busybox-rootfs';
import type { ExecutionDriver } from '../../core/driver/execution-driver';

/** The repository (this file runs from dist/bench/native once built). */
const top = [path.resolve(__dirname, '../..'), path.resolve(__dirname, '../../..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 20);
const SLEEPERS = arg('sleepers', 200);
const WARMUP = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const round = (x: number) => Math.round(x * 100) / 100;
function summary(xs: number[]) {
  return { medianMs: round(median(xs)), minMs: round(Math.min(...xs)), maxMs: round(Math.max(...xs)), runs: xs.length };
}

function run(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${argv.join(' ')}: exit ${code}: ${err.trim()}`));
      else resolve(ms);
    });
  });
}

async function timed(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + WARMUP; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    if (i >= WARMUP) out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-native-'));
  const rootfs = path.join(work, 'rootfs');
  buildBusyboxRootfs(rootfs);
  const config = loadDriversConfig([path.resolve(__dirname, '../../drivers.json')]); // dist/drivers.json once built
  const registry = new DriverRegistry(config);
  const driver: ExecutionDriver = await registry.get('native');
  const stateRoot = path.join(work, 'state');
  const manager = new ContainerManager(registry, new StateStore(stateRoot), silentLogger);
  const devnull = fs.openSync('/dev/null', 'w');
  let n = 0;
  const spec = defaultSpec({ rootfs, args: ['/bin/true'] });
  try {
    const api = await timed(RUNS, async () => {
      const id = `bench-${n++}`;
      await manager.create({ id, bundle: work, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: devnull, stderr: devnull } });
      await manager.start(id);
      const r = await manager.wait(id);
      await manager.delete(id, false);
      if (r.exitCode !== 0) throw new Error(`/bin/true exited ${r.exitCode}`);
    });
    const cliRoot = path.join(work, 'cli-state');
    const cliArgv = [process.execPath, path.join(top, 'dist/cli/main.js'), '--root', cliRoot, 'run', '--rm', '--driver', 'native', '--rootfs', rootfs, '--', '/bin/true'];
    const cli = await timed(RUNS, () => run(cliArgv));
    const runcArgv = await driver.rawBaseline!.prepare(work, rootfs, ['/bin/true']);
    const runc = await timed(RUNS, async () => run((await driver.rawBaseline!.prepare(work, rootfs, ['/bin/true'])).argv));
    const unshareArgv = ['unshare', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', `--root=${rootfs}`, '/bin/true'];
    const floor = await timed(RUNS, () => run(unshareArgv));

    // SLEEPERS detached containers, all at once.
    const ids = Array.from({ length: SLEEPERS }, (_, i) => `sleeper-${i}`);
    const sleepSpec = defaultSpec({ rootfs, args: ['sleep', '600'] });
    const t0 = process.hrtime.bigint();
    await Promise.all(ids.map(async (id) => {
      await manager.create({ id, bundle: work, spec: sleepSpec, driver, stdio: { kind: 'log' } });
      await manager.start(id);
    }));
    const startAllMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const rss: number[] = [];
    for (const id of ids) {
      const record = await manager.store.read(id);
      const kib = rssKiB((record.handle as { monitorPid: number }).monitorPid);
      if (kib !== undefined) rss.push(kib);
    }
    const t1 = process.hrtime.bigint();
    await Promise.all(ids.map((id) => manager.delete(id, true)));
    const deleteAllMs = Number(process.hrtime.bigint() - t1) / 1e6;

    const result = {
      bench: 'native',
      date: new Date().toISOString(),
      host: { kernel: os.release(), cpus: os.cpus().length, node: process.version },
      startToExitTrue: {
        api: summary(api),
        cli: summary(cli),
        runc: summary(runc),
        unshareFloor: summary(floor),
        commands: { cli: cliArgv.join(' '), runc: runcArgv.argv.join(' '), unshare: unshareArgv.join(' ') },
        apiAtOrBelowRunc: median(api) <= median(runc),
      },
      detachedSleepers: {
        count: SLEEPERS,
        startAllMs: round(startAllMs),
        deleteAllMs: round(deleteAllMs),
        monitorRssKiB: { median: median(rss), max: Math.max(...rss), min: Math.min(...rss), measured: rss.length },
        monitorRssUnder1MiB: Math.max(...rss) < 1024,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const id of await manager.store.ids()) await manager.delete(id, true).catch(() => undefined);
    await driver.rawBaseline?.cleanup?.(work);
    fs.closeSync(devnull);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`native bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
