/**
 * bench/libvirt: one container that runs `true`, on the same busybox rootfs, in the same run:
 *   raw   `virsh create DOMAIN.xml` (init /bin/true, no berth) + wait until libvirt removed the domain
 *   api   berth's ContainerManager: create + start + wait (exit code known), delete, and the sum
 *         (raw's wait ends when libvirt has torn the domain down, so compare it with the sum too)
 *   cli   `berth run --rm --driver libvirt --rootfs ROOTFS -- true` (a whole CLI process), and
 *         `berth --version` for the CLI's own start-up cost
 * Interleaved, RUNS times each (default 20); prints JSON with medians, p10/p90 in milliseconds.
 * Usage (root, libvirtd running: scripts/daemons/libvirtd.sh start):
 *   npm run build && node dist/bench/libvirt/libvirt-bench.js [RUNS]
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  ContainerManager,
  DriverRegistry,
  LineLogger,
  StateStore,
  defaultSpec,
  loadDriversConfig,
  runCommand,
} from '../../core';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';
import { bareLxcDomainXml } from '../../drivers/libvirt/domain-xml';

const URI = 'lxc:///system';
/** This file runs from dist/bench/libvirt: dist/ holds the built drivers.json, its parent bin/berth. */
const dist = path.resolve(__dirname, '../..');
const top = path.dirname(dist);

async function waitGone(file: string): Promise<void> {
  const deadline = Date.now() + 30000;
  while (fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} still there after 30 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { runs: s.length, median_ms: round(at(0.5)), p10_ms: round(at(0.1)), p90_ms: round(at(0.9)), min_ms: round(s[0]!), max_ms: round(s[s.length - 1]!) };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const rootfs = await ensureDefaultRootfs();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-libvirt-'));
  const config = loadDriversConfig([path.join(dist, 'drivers.json')]);
  const registry = new DriverRegistry(config);
  const driver = await registry.get('libvirt');
  const fp = await driver.fingerprint();
  if (!fp.available) throw new Error(`libvirt driver unavailable: ${fp.reason}`);
  const manager = new ContainerManager(registry, new StateStore(path.join(work, 'state')), new LineLogger({ level: 'error', format: 'text' }));
  const null1 = fs.openSync('/dev/null', 'w');
  const times = { raw: [] as number[], api: [] as number[], apiDelete: [] as number[], apiTotal: [] as number[], cli: [] as number[], cliStartup: [] as number[] };

  const raw = async (i: number) => {
    const name = `t-libvirt-bench-raw-${process.pid}-${i}`;
    const xml = path.join(work, `${name}.xml`);
    fs.writeFileSync(xml, bareLxcDomainXml(name, rootfs, ['/bin/true'], os.totalmem()));
    const t0 = performance.now();
    await runCommand(['virsh', '-q', '-c', URI, 'create', xml]);
    await waitGone(`/run/libvirt/lxc/${name}.pid`);
    times.raw.push(performance.now() - t0);
    for (const f of [`/var/log/libvirt/lxc/${name}.log`, `/run/libvirt/lxc/${name}.sock`]) fs.rmSync(f, { force: true });
    for (const s of ['dev', 'devpts', 'fuse']) fs.rmSync(`/run/libvirt/lxc/${name}.${s}`, { recursive: true, force: true });
  };
  const api = async (i: number) => {
    const id = `t-libvirt-bench-api-${process.pid}-${i}`;
    const spec = defaultSpec({ rootfs, args: ['true'] });
    spec.mounts = (spec.mounts ?? []).filter((m) => m.type !== 'cgroup');
    delete spec.linux!.resources;
    delete spec.linux!.seccomp;
    const t0 = performance.now();
    await manager.create({ id, bundle: work, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: null1, stderr: null1 } });
    await manager.start(id);
    const r = await manager.wait(id);
    const t1 = performance.now();
    await manager.delete(id, false);
    times.apiDelete.push(performance.now() - t1);
    times.apiTotal.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`api run exited ${r.exitCode}`);
    times.api.push(t1 - t0);
  };
  const cli = async () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(top, 'bin/berth'), 'run', '--rm', '--driver', 'libvirt', '--rootfs', rootfs, '--', 'true'], {
      env: { ...process.env, BERTH_ROOT: path.join(work, 'cli-state') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    times.cli.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`berth run exited ${r.status}: ${r.stderr}`);
    const t1 = performance.now();
    spawnSync(process.execPath, [path.join(top, 'bin/berth'), '--version'], { stdio: 'ignore' });
    times.cliStartup.push(performance.now() - t1);
  };

  await raw(-1);
  await api(-1);
  times.raw.length = 0;
  times.api.length = 0;
  times.apiDelete.length = 0;
  times.apiTotal.length = 0;
  for (let i = 0; i < runs; i++) {
    await raw(i);
    await api(i);
    await cli();
  }
  fs.closeSync(null1);
  fs.rmSync(work, { recursive: true, force: true });
  const loadavg = os.loadavg().map((x) => Math.round(x * 100) / 100);
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'libvirt',
        date: new Date().toISOString(),
        host: { cpus: os.cpus().length, loadavg, kernel: os.release(), libvirt: fp.version, uri: URI },
        workload: 'busybox rootfs, `true`, no network (privnet), read-only root',
        raw_virsh_create_wait: summary(times.raw),
        berth_api_create_start_wait: summary(times.api),
        berth_api_delete: summary(times.apiDelete),
        berth_api_create_start_wait_delete: summary(times.apiTotal),
        berth_cli_run_rm: summary(times.cli),
        berth_cli_startup_version: summary(times.cliStartup),
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`bench/libvirt: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
