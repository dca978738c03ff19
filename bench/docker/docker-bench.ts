/**
 * bench/docker: one short container (`true`) on the same image, in the same run, three ways:
 *   api     berth's API in this process (ContainerManager create + start + wait + delete, docker driver)
 *   cli     the built berth CLI as a new process: `berth run --rm --driver docker --rootfs R -- true`
 *   docker  the Docker CLI on the same image: `docker run --rm --network none IMAGE true`
 * plus `cli-startup` (`berth --version`: node + the CLI's own start-up, no container).
 * Rounds are interleaved (api, cli, docker, ... then again) after warm-up runs, so load on the
 * machine hits each alike. Prints JSON: medians, min, max and every sample in milliseconds.
 *
 *   bash scripts/daemons/dockerd.sh start && npm run build
 *   DOCKER_HOST=unix:///run/berth-test/docker.sock node dist/bench/docker/docker-bench.js --runs 20
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DriverRegistry } from '../../core/registry/driver-registry';
import { ContainerManager } from '../../core/runtime/container-manager';
import { StateStore } from '../../core/state/state-store';
import { silentLogger } from '../../core/logging/logger';
import { buildSpec } from '../../core/spec/spec-builder';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';
import type { DriversConfig } from '../../core/registry/drivers-config';
import { rootfsHash, ROOTFS_REPOSITORY } from '../../drivers/docker/rootfs-image';
import { dockerClient, resolveDockerHost } from '../../drivers/docker/docker-connection';

const TOP = path.resolve(__dirname, '../../..');
const CLI = path.join(TOP, 'dist/cli/main.js');

interface Series {
  samples: number[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function timeProcess(argv: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const runs = Math.max(20, Number(arg('runs', '20')));
  const warmup = Number(arg('warmup', '2'));
  const dockerHost = resolveDockerHost({}, { ...process.env, DOCKER_HOST: process.env.DOCKER_HOST || 'unix:///run/berth-test/docker.sock' });
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const rootfs = path.resolve(arg('rootfs', '') || (await ensureDefaultRootfs()));
  const version = await dockerClient(dockerHost).version();

  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-docker-'));
  const config: DriversConfig = {
    drivers: { docker: { module: path.join(TOP, 'dist/drivers/docker'), options: { host: dockerHost }, baseDir: '/' } },
    preference: ['docker'],
    hosts: [],
    sources: [],
  };
  const registry = new DriverRegistry(config);
  const manager = new ContainerManager(registry, new StateStore(stateRoot), silentLogger);
  const driver = await registry.get('docker');
  const sink = fs.openSync('/dev/null', 'w');
  let n = 0;
  const api = async (): Promise<number> => {
    const id = `bench-docker-${process.pid}-${n++}`;
    const spec = buildSpec({ rootfs, args: ['true'] }, driver.features).spec;
    const t = performance.now();
    await manager.create({ id, bundle: stateRoot, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: sink, stderr: sink } });
    await manager.start(id);
    const { exitCode } = await manager.wait(id);
    await manager.delete(id, true);
    const ms = performance.now() - t;
    if (exitCode !== 0) throw new Error(`api run exited ${exitCode}`);
    return ms;
  };
  // The first API run imports the rootfs (once); the Docker CLI then runs that same image.
  await api();
  const image = `${ROOTFS_REPOSITORY}:${rootfsHash(rootfs)}`;
  const cases: Record<string, () => Promise<number> | number> = {
    api,
    cli: () => timeProcess([process.execPath, CLI, '--root', stateRoot, 'run', '--rm', '--driver', 'docker', '--rootfs', rootfs, '--', 'true'], env),
    docker: () => timeProcess(['docker', '-H', dockerHost, 'run', '--rm', '--network', 'none', image, 'true'], env),
    'cli-startup': () => timeProcess([process.execPath, CLI, '--version'], env),
  };
  const series: Record<string, Series> = Object.fromEntries(Object.keys(cases).map((k) => [k, { samples: [] }]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const ms = await fn();
      if (round >= warmup) series[name]!.samples.push(Math.round(ms * 10) / 10);
    }
  }
  fs.closeSync(sink);
  fs.rmSync(stateRoot, { recursive: true, force: true });
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const out = {
    bench: 'docker',
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, loadavg: os.loadavg().map(round1), node: process.version },
    engine: { dockerHost, version: version.Version, apiVersion: version.ApiVersion },
    image,
    rootfs,
    runs,
    command: 'true',
    results: Object.fromEntries(
      Object.entries(series).map(([k, s]) => [k, { median_ms: round1(median(s.samples)), min_ms: Math.min(...s.samples), max_ms: Math.max(...s.samples), samples_ms: s.samples }]),
    ),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`docker-bench: ${(err as Error).message}\n`);
  process.exit(1);
});
