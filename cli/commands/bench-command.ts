import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { chosenDrivers } from '../driver-list';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';
import { driverLatency, kernelFloor, runMany, type DriverLatency } from '../../bench/lib/latency-bench';
import { densityBench, type DensityResult } from '../../bench/lib/density-bench';
import { latencyChart, densityChart } from '../../bench/lib/bench-charts';
import { sampleStats, type SampleStats } from '../../bench/lib/sample-stats';
import { ProgressBar } from '../progress';
import { printJson, printTable } from '../output';
import { BerthError } from '../../core/errors/berth-error';

interface BenchArgs extends GlobalArgs {
  drivers?: string;
  runs: number;
  count: number;
  concurrency: number;
  output: string;
  latency: boolean;
  density: boolean;
  format: 'text' | 'json';
}

export const benchCommand: CommandModule<GlobalArgs, BenchArgs> = {
  command: 'bench',
  describe: 'Measure latency (vs the raw backend tools and the kernel floor) and density per driver; JSON + SVG',
  builder: (y) =>
    y
      .option('drivers', { type: 'string', describe: 'comma-separated drivers (default: every available one)' })
      .option('runs', { type: 'number', default: 20, describe: 'latency runs per measurement' })
      .option('count', { type: 'number', default: 100, describe: 'density: detached containers per driver (up to 1000)' })
      .option('concurrency', { type: 'number', default: 8, describe: 'density: creates in flight at once' })
      .option('output', { alias: 'o', type: 'string', default: 'bench-results', describe: 'folder for bench.json, latency.svg, density.svg' })
      .option('latency', { type: 'boolean', default: true, describe: 'run the latency part (--no-latency to skip)' })
      .option('density', { type: 'boolean', default: true, describe: 'run the density part (--no-density to skip)' })
      .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }) as never,
  handler: action<BenchArgs>(false, async (argv, ctx) => {
    if (argv.count < 1 || argv.count > 1000) throw new BerthError('INVALID_ARGUMENT', '--count must be between 1 and 1000');
    const drivers = await chosenDrivers(ctx, argv.drivers);
    if (drivers.length === 0) throw new BerthError('DRIVER_UNAVAILABLE', 'no available driver to benchmark');
    const rootfs = await ensureDefaultRootfs();
    const manager = ctx.manager();
    const latency: DriverLatency[] = [];
    const cli: { driver: string; startToExit: SampleStats }[] = [];
    let floor: SampleStats | undefined;
    if (argv.latency) {
      const bar = new ProgressBar(drivers.length * argv.runs, 'latency');
      for (const { driver } of drivers) {
        latency.push(await driverLatency(manager, driver, rootfs, argv.runs, () => bar.tick(`latency ${driver.name}`)));
        const cliArgv = [process.execPath, path.join(__dirname, '..', 'main.js'), '--root', argv.root, 'run', '--rm', '--driver', driver.name, '--rootfs', rootfs, '--', '/bin/true'];
        cli.push({ driver: driver.name, startToExit: sampleStats(runMany(cliArgv, argv.runs)) });
      }
      bar.finish();
      floor = kernelFloor(rootfs, argv.runs);
    }
    const density: DensityResult[] = [];
    if (argv.density) {
      for (const { driver } of drivers) {
        const bar = new ProgressBar(argv.count * 2, `density ${driver.name}`);
        density.push(await densityBench(manager, driver, rootfs, argv.count, argv.concurrency, (phase) => bar.tick(`density ${driver.name}: ${phase}`)));
        bar.finish();
      }
    }
    const result = {
      date: new Date().toISOString(),
      machine: machineDescription(),
      command: `berth ${process.argv.slice(2).join(' ')}`,
      drivers: drivers.map((d) => ({ name: d.driver.name, version: d.version })),
      runs: argv.runs,
      latency,
      cli,
      ...(floor ? { kernelFloor: floor } : {}),
      density: density.map(({ curve: _curve, ...rest }) => rest),
    };
    fs.mkdirSync(argv.output, { recursive: true });
    fs.writeFileSync(path.join(argv.output, 'bench.json'), `${JSON.stringify({ ...result, densityCurves: density.map((d) => ({ driver: d.driver, curve: d.curve })) }, null, 2)}\n`);
    if (latency.length) fs.writeFileSync(path.join(argv.output, 'latency.svg'), await latencyChart(latency, floor));
    if (density.length) fs.writeFileSync(path.join(argv.output, 'density.svg'), await densityChart(density));
    if (argv.format === 'json') return printJson(result);
    if (latency.length) {
      printTable(['driver', 'api median', 'api p95', 'create->running', 'exec', 'cli median', 'raw tool', 'raw median'],
        latency.map((l) => [
          l.driver, `${l.startToExit.medianMs} ms`, `${l.startToExit.p95Ms} ms`, `${l.createToRunning.medianMs} ms`,
          l.execRoundTrip ? `${l.execRoundTrip.medianMs} ms` : '-', `${cli.find((c) => c.driver === l.driver)?.startToExit.medianMs ?? '-'} ms`,
          l.raw?.name ?? '-', l.raw && 'startToExit' in l.raw ? `${l.raw.startToExit.medianMs} ms` : l.raw && 'error' in l.raw ? `error: ${l.raw.error}` : '-',
        ]));
      if (floor) process.stdout.write(`kernel floor (unshare + chroot): median ${floor.medianMs} ms\n`);
    }
    if (density.length) {
      printTable(['driver', 'count', 'running', 'start all', 'per container', 'host mem/container', 'cleanup'],
        density.map((d) => [d.driver, String(d.count), String(d.running), `${d.totalStartMs} ms`, `${(d.totalStartMs / Math.max(1, d.started)).toFixed(1)} ms`, `${d.hostMemoryPerContainerKiB} KiB`, `${d.cleanupMs} ms${d.error ? ` (error: ${d.error})` : ''}`]));
    }
    process.stdout.write(`results: ${path.resolve(argv.output)}/bench.json${latency.length ? ', latency.svg' : ''}${density.length ? ', density.svg' : ''}\n`);
    return density.some((d) => d.error || d.running !== d.count) ? 1 : 0;
  }),
};

function machineDescription(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}
