/**
 * Bridge networking through the built CLI on a driver that uses core's NetworkAttacher, as root
 * with the real CNI plugins: a published port serves the host, two containers on berth0 reach each
 * other, and every teardown path (stop + delete, SIGKILLed init, delete --force running, delete
 * --force of a half-created container whose CLI was SIGKILLed inside create, a user-defined
 * network) leaves nothing on the host: no veth, no nat/filter rule or chain, no lease, no
 * namespace, no port reservation. Each driver's test file calls `cliNetworkSuite`.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutionDriver } from '../../core';
import { CLI } from '../helpers/run-cli';
import { describeIf, requireBackend } from '../helpers/backend-gate';
import { privateRootfs } from '../helpers/busybox-fixture';
import { cniAvailable } from './network-gate';
import {
  IPAM_DIR,
  addContainer,
  emptyMine,
  hostAddress,
  httpGet,
  leasesOf,
  left,
  netEnv,
  present,
  randomPort,
  snapshot,
  until,
  type Mine,
} from './cli-network-fixture';

/** The whole suite on `driver` (its name selects it with --driver). */
export function cliNetworkSuite(driver: ExecutionDriver): void {
  jest.setTimeout(120000);
  const newId = () => `t-${driver.name}-${crypto.randomBytes(4).toString('hex')}`;
  describeIf(cniAvailable())(`${driver.name} driver: bridge networking through the CLI`, () => {
    const net = netEnv();
    const cni = net.cniWrapper();
    const token = `berth-net-${crypto.randomBytes(4).toString('hex')}`;
    let rootfs: { dir: string; cleanup: () => void } | undefined;
    let available = false;
    const started: string[] = [];
    const stray: number[] = [];

    beforeAll(async () => {
      available = (await requireBackend(driver)).available;
      rootfs = privateRootfs();
      fs.writeFileSync(path.join(rootfs.dir, 'etc/hostname'), `${token}\n`); // what httpd serves
    });
    afterAll(() => {
      for (const id of started) net.cli(['delete', '--force', id]);
      for (const pid of stray) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      net.cleanup();
      cni.cleanup();
      rootfs?.cleanup();
    });

    /** `berth run -d` a busybox httpd serving the rootfs's /etc (and publishing `publish` ports). */
    function runHttpd(id: string, extra: string[] = []): void {
      started.push(id);
      const r = net.cli(['run', '-d', '--driver', driver.name, '--name', id, '--rootfs', rootfs!.dir, ...extra, '--', '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, stdout: `${id}\n` });
    }

    function statusOf(id: string): { status: string; pid?: number } {
      return JSON.parse(net.cli(['state', id]).stdout) as { status: string; pid?: number };
    }

    async function expectClean(before: Awaited<ReturnType<typeof snapshot>>, mine: Mine): Promise<void> {
      expect(left(before, await snapshot(net), mine)).toEqual([]);
      for (const id of mine.ids) expect(leasesOf(id)).toEqual([]);
    }

    test('a published port serves the host (loopback and its own address); stop + delete leaves nothing', async () => {
      if (!available) return;
      const before = await snapshot(net);
      const id = newId();
      const port = randomPort();
      runHttpd(id, ['-p', `${port}:8080`]);
      const mine = emptyMine();
      addContainer(mine, net.root, id);
      expect(mine.ips.length).toBe(1);
      expect(mine.links.length).toBe(1);
      const during = present(before, await snapshot(net), mine);
      expect(during).toContain(`link ${mine.links[0]}`);
      expect(during).toContain(`lease berth0/${mine.ips[0]}`);
      expect(during.some((l) => l.startsWith('nat ') && l.includes(mine.chains[1]!))).toBe(true); // portmap's DNAT chain
      expect(during).toContain(`port reservation tcp-${port}-any`);

      expect(await httpGet(`http://127.0.0.1:${port}/hostname`)).toBe(`${token}\n`);
      const own = hostAddress();
      if (own) expect(await httpGet(`http://${own}:${port}/hostname`)).toBe(`${token}\n`);

      // httpd as pid 1 has no SIGTERM handler, so the kernel ignores TERM: stop is KILL, as after a stop timeout.
      expect(net.cli(['kill', id, 'KILL']).code).toBe(0);
      expect(await until(() => statusOf(id).status === 'stopped', 10000)).toBe(true);
      expect(net.cli(['delete', id])).toMatchObject({ code: 0, stderr: '' });
      await expectClean(before, mine);
    });

    test('two containers on berth0 reach each other; SIGKILL of one init then delete, delete --force of the other: nothing left', async () => {
      if (!available) return;
      const before = await snapshot(net);
      const a = newId();
      const b = newId();
      runHttpd(a, ['--network', 'bridge']);
      runHttpd(b, ['--network', 'bridge']);
      const mine = emptyMine();
      addContainer(mine, net.root, a);
      addContainer(mine, net.root, b);
      const [ipA, ipB] = mine.ips;
      expect(mine.ips).toHaveLength(2);
      expect(ipA).toMatch(/^10\.77\./);
      expect(ipB).toMatch(/^10\.77\./);
      expect(ipA).not.toBe(ipB);

      // busybox 1.35's wget -T segfaults (exit 139): bound it with timeout instead.
      const wget = net.cli(['exec', b, '--', '/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O', '-', `http://${ipA}:8080/hostname`], 15000);
      expect(wget).toMatchObject({ code: 0, stdout: `${token}\n` });
      const ping = net.cli(['exec', a, '--', '/bin/busybox', 'ping', '-c', '1', '-W', '2', ipB!], 15000);
      expect(ping.stdout).toContain('1 packets received');
      expect(ping.code).toBe(0);

      const pid = statusOf(a).pid!;
      expect(pid).toBeGreaterThan(1);
      process.kill(pid, 'SIGKILL');
      expect(await until(() => statusOf(a).status === 'stopped', 10000)).toBe(true);
      expect(net.cli(['delete', a])).toMatchObject({ code: 0, stderr: '' });
      expect(statusOf(b).status).toBe('running');
      expect(net.cli(['delete', '--force', b])).toMatchObject({ code: 0, stderr: '' });
      await expectClean(before, mine);
    });

    const withHooks = driver.features.has('hooks.createRuntime') ? test : test.skip;
    withHooks('delete --force of a container whose CLI was SIGKILLed in a createRuntime hook (network attached; native, lxc: no handle saved) leaves nothing', async () => {
      if (!available) return;
      const before = await snapshot(net);
      const id = newId();
      const port = randomPort();
      const bundle = path.join(net.root, `bundle-${id}`);
      fs.mkdirSync(bundle);
      expect(net.cli(['spec', '-b', bundle, '--rootfs', rootfs!.dir, '--', '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']).code).toBe(0);
      const hookPidFile = path.join(bundle, 'hook.pid');
      const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
      spec.annotations = {
        ...spec.annotations,
        'org.berth.network': 'bridge',
        'org.berth.publish': JSON.stringify([{ hostIp: '', hostPort: port, containerPort: 8080, protocol: 'tcp' }]),
      };
      if (!spec.linux.namespaces.some((n: { type: string }) => n.type === 'network')) spec.linux.namespaces.push({ type: 'network' });
      if (!driver.features.has('linux.seccomp')) delete spec.linux.seccomp;
      // createRuntime runs after the network is attached and before create returns the handle.
      spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${hookPidFile}; exec sleep 60`] }] };
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));

      started.push(id);
      // run -d: the hook runs inside create (native, lxc) or inside start (nspawn makes the namespaces at start).
      const child = spawn(process.execPath, [CLI, '--root', net.root, 'run', '-d', '--driver', driver.name, '-b', bundle, '--name', id], { env: { ...process.env, BERTH_DRIVER: '', BERTH_CONFIG: '', ...net.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const hooked = await until(() => fs.existsSync(hookPidFile) && fs.readFileSync(hookPidFile, 'utf8').trim() !== '', 30000);
      expect(hooked ? '' : `the hook did not run; the CLI said: ${stderr}`).toBe('');
      const hookPid = Number(fs.readFileSync(hookPidFile, 'utf8').trim());
      stray.push(hookPid);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      process.kill(hookPid, 'SIGKILL');

      const mine = emptyMine();
      addContainer(mine, net.root, id);
      expect(mine.ips.length).toBe(1); // attached: its lease names it
      const during = present(before, await snapshot(net), mine);
      expect(during).toContain(`lease berth0/${mine.ips[0]}`);
      expect(during).toContain(`port reservation tcp-${port}-any`);
      expect(during.some((l) => l.includes(mine.chains[1]!))).toBe(true);

      const deleted = net.cli(['delete', '--force', id]);
      expect(deleted.code).toBe(0);
      // Killed inside create: the core warns and still has the driver clean up. Inside start: a plain delete.
      expect(deleted.stderr).toMatch(/^(berth warn: deleting container "t-[a-z]+-[0-9a-f]+" without its driver: .*never fully created.*\n)?$/);
      expect(deleted.stderr).not.toMatch(/cleanup failed/);
      expect(net.cli(['state', id]).code).not.toBe(0);
      await expectClean(before, mine);
      // The container's veth went with its namespace; no veth of berth0 is left without a peer.
    });

    test('a user-defined network: run with --network bridge:NAME -p, reach it, delete, network rm: nothing left', async () => {
      if (!available) return;
      const before = await snapshot(net);
      const name = `t-nn-${crypto.randomBytes(3).toString('hex')}`;
      const third = 1 + crypto.randomInt(250);
      const created = net.cli(['network', 'create', name, '--subnet', `10.79.${third}.0/24`]);
      if (created.code !== 0 && /overlaps/.test(created.stderr)) return; // another test holds that /24 now
      expect(created).toMatchObject({ code: 0, stdout: `${name}\n` });
      const id = newId();
      const port = randomPort();
      try {
        runHttpd(id, ['--network', `bridge:${name}`, '-p', `${port}:8080`]);
        const mine = emptyMine();
        mine.networks.push(name);
        addContainer(mine, net.root, id, name);
        expect(mine.ips[0]).toMatch(new RegExp(`^10\\.79\\.${third}\\.`));
        expect(await httpGet(`http://127.0.0.1:${port}/hostname`)).toBe(`${token}\n`);
        const busy = net.cli(['network', 'rm', name]);
        expect(busy.code).toBe(1);
        expect(busy.stderr).toMatch(/\[NETWORK_IN_USE\]/);
        expect(net.cli(['delete', '--force', id])).toMatchObject({ code: 0, stderr: '' });
        expect(net.cli(['network', 'rm', name])).toMatchObject({ code: 0, stdout: `${name}\n` });
        await expectClean(before, mine);
        expect(fs.existsSync(path.join(IPAM_DIR, name))).toBe(false);
      } finally {
        net.cli(['delete', '--force', id]);
        net.cli(['network', 'rm', '--force', name]);
      }
    });

    test('delete --force of a container whose CLI was SIGKILLed while a CNI plugin ran its ADD leaves nothing', async () => {
      if (!available) return;
      const before = await snapshot(net);
      const id = newId();
      const port = randomPort();
      started.push(id);
      // The firewall plugin (last in the list) sleeps in ADD: bridge and portmap have done theirs.
      const args = ['--root', net.root, 'run', '-d', '--driver', driver.name, '--name', id, '-p', `${port}:8080`, '--rootfs', rootfs!.dir, '--', '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'];
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, BERTH_DRIVER: '', BERTH_CONFIG: '', ...net.env, ...cni.env }, stdio: 'ignore' });
      expect(await until(() => cni.sleeping() !== undefined, 30000)).toBe(true);
      stray.push(cni.sleeping()!);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      process.kill(cni.sleeping()!, 'SIGKILL');

      const mine = emptyMine();
      addContainer(mine, net.root, id);
      expect(mine.ips.length).toBe(1);
      const during = present(before, await snapshot(net), mine);
      expect(during).toContain(`lease berth0/${mine.ips[0]}`);
      expect(during.some((l) => l.includes(mine.chains[1]!))).toBe(true); // portmap's DNAT chain
      expect(during).toContain(`port reservation tcp-${port}-any`);

      const deleted = net.cli(['delete', '--force', id]);
      expect(deleted.code).toBe(0);
      expect(deleted.stderr).not.toMatch(/cleanup failed/);
      expect(net.cli(['state', id]).code).not.toBe(0);
      await expectClean(before, mine);
    });
  });
}
