/**
 * The NetworkAttacher against the real CNI plugins, as root: named namespaces made by the test,
 * the built-in berth0 network and user-defined ones, traffic only between those namespaces and
 * from the host's own addresses, every loop bounded. Ends with a whole-host before/after check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CniPluginError,
  createNamedNetns,
  createNetworkAttacher,
  DEFAULT_CNI_PATH,
  deleteNamedNetns,
  netnsPath,
  type NetworkAttachment,
  type NetworkAttacher,
} from '../../core/network';
import type { NetworkRequest } from '../../core/spec/network-annotations';
import { runCommand } from '../../core/util/run-command';
import { testRootfs } from '../helpers/busybox-fixture';
import { describeIf } from '../helpers/backend-gate';
import { cniAvailable } from './network-gate';
import { hostSnapshot, leftovers, type HostSnapshot, type MadeByTest } from './host-snapshot';

const rand = () => crypto.randomBytes(3).toString('hex');

describeIf(cniAvailable())('NetworkAttacher with the real CNI plugins', () => {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-network-state-'));
  const { attacher: realAttacher, store } = createNetworkAttacher({ configDir, cniPath: DEFAULT_CNI_PATH, ipamDir: '/var/lib/cni/networks', stateDir });
  const mine: MadeByTest = { ids: new Set(), ips: new Set(), links: new Set(), networks: new Set() };
  // the attacher, noting every id, address and host interface the test makes
  const attacher: NetworkAttacher = {
    attach: async (id, netns, request) => {
      mine.ids.add(id);
      const record = await realAttacher.attach(id, netns, request);
      for (const ip of record.ips) mine.ips.add(ip.split('/')[0]!);
      for (const i of record.interfaces) if (!i.sandbox && i.name.startsWith('veth')) mine.links.add(i.name);
      return record;
    },
    detach: (...args) => realAttacher.detach(...args),
    check: (...args) => realAttacher.check(...args),
  };
  const namespaces: string[] = [];
  const live: { id: string; netns: string; record: NetworkAttachment }[] = [];
  const servers: ChildProcess[] = [];
  const networks: string[] = [];
  const third = 1 + crypto.randomInt(250);
  let before: HostSnapshot;
  let rootfs: string;

  const newNetns = async () => {
    const name = `berth-test-${rand()}`;
    await createNamedNetns(name);
    namespaces.push(name);
    mine.links.add(name);
    return { name, path: netnsPath(name) };
  };
  const attach = async (netns: string, network: string, publish: NetworkAttachment['publish'] = []) => {
    const id = `t-net-${rand()}`;
    const record = await attacher.attach(id, netns, { mode: 'bridge', network, publish });
    live.push({ id, netns, record });
    return { id, record };
  };
  const detach = async (id: string, netns: string | undefined, record: NetworkAttachment | undefined, request?: NetworkRequest) => {
    await attacher.detach(id, netns, record, request);
    const i = live.findIndex((l) => l.id === id);
    if (i >= 0) live.splice(i, 1);
  };
  const inNetns = (ns: string, args: string[], timeoutMs = 15000) =>
    runCommand(['ip', 'netns', 'exec', ns, 'chroot', rootfs, '/bin/busybox', ...args], { allowFailure: true, timeoutMs });
  const ipOf = (record: NetworkAttachment) => record.ips[0]!.split('/')[0]!;
  const rulesMentioning = async (text: string) => {
    const out = (await runCommand(['iptables-save'])).stdout;
    return out.split('\n').filter((l) => l.includes(text));
  };

  beforeAll(async () => {
    rootfs = await testRootfs();
    before = await hostSnapshot();
    const net = await store.create({ name: `t-${rand()}`, subnet: `10.79.${third}.0/24` });
    networks.push(net.name);
    mine.networks.add(net.name);
    mine.links.add(net.summary.bridge!);
  });

  afterAll(async () => {
    for (const s of servers) if (s.pid && s.exitCode === null && s.signalCode === null) process.kill(s.pid, 'SIGKILL');
    for (const l of [...live]) await attacher.detach(l.id, l.netns, l.record).catch(() => undefined);
    for (const n of namespaces) await deleteNamedNetns(n).catch(() => undefined);
    for (const n of networks) await store.remove(n, true).catch(() => undefined);
    fs.rmSync(configDir, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test('ADD on the default bridge: eth0 with an address, loopback up, default route, veth on berth0', async () => {
    const ns = await newNetns();
    const { id, record } = await attach(ns.path, 'berth0');
    expect(record).toMatchObject({ mode: 'bridge', network: 'berth0', ifName: 'eth0', loopback: true, gateway: '10.77.0.1' });
    expect(record.ips[0]).toMatch(/^10\.77\.\d+\.\d+\/16$/);
    const addr = await runCommand(['ip', '-n', ns.name, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.stdout).toContain(`inet ${record.ips[0]}`);
    expect((await runCommand(['ip', '-n', ns.name, '-o', 'link', 'show', 'lo'])).stdout).toMatch(/[<,]UP[,>]/);
    expect((await runCommand(['ip', '-n', ns.name, 'route'])).stdout).toContain('default via 10.77.0.1 dev eth0');
    const veth = record.interfaces.find((i) => !i.sandbox && i.name !== 'berth0')!.name;
    expect(fs.realpathSync(`/sys/class/net/${veth}/master`)).toMatch(/\/berth0$/);
    expect(fs.readFileSync(`/var/lib/cni/networks/berth0/${ipOf(record)}`, 'utf8')).toContain(id);

    await detach(id, ns.path, record);
    expect(fs.existsSync(`/sys/class/net/${veth}`)).toBe(false);
    expect(fs.existsSync(`/var/lib/cni/networks/berth0/${ipOf(record)}`)).toBe(false);
    expect((await runCommand(['ip', '-n', ns.name, 'link', 'show', 'eth0'], { allowFailure: true })).exitCode).not.toBe(0);
    expect(await rulesMentioning(id)).toEqual([]);
    await detach(id, ns.path, record); // idempotent
  });

  test('two namespaces on the same user-defined bridge reach each other', async () => {
    const a = await newNetns();
    const b = await newNetns();
    const ra = await attach(a.path, networks[0]!);
    const rb = await attach(b.path, networks[0]!);
    expect(ra.record.ips[0]).toMatch(new RegExp(`^10\\.79\\.${third}\\.`));
    const ab = await inNetns(a.name, ['ping', '-c', '2', '-W', '2', ipOf(rb.record)]);
    expect(ab.stdout).toContain('2 packets received');
    const ba = await inNetns(b.name, ['ping', '-c', '2', '-W', '2', ipOf(ra.record)]);
    expect(ba.stdout).toContain('2 packets received');
    await detach(ra.id, a.path, ra.record);
    await detach(rb.id, b.path, rb.record);
  });

  test('a published port: DNAT rule, and host loopback and host address reach busybox httpd in the namespace', async () => {
    const ns = await newNetns();
    const hostPort = 20000 + crypto.randomInt(20000);
    const { id, record } = await attach(ns.path, 'berth0', [{ hostPort, containerPort: 8080, protocol: 'tcp' }]);
    const dnat = await rulesMentioning(`--to-destination ${ipOf(record)}:8080`);
    expect(dnat.some((l) => l.includes(`--dport ${hostPort}`) && l.includes('-j DNAT'))).toBe(true);

    const server = spawn('ip', ['netns', 'exec', ns.name, 'chroot', rootfs, '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'], { stdio: 'ignore' });
    servers.push(server);
    // wait (bounded) until httpd answers through the published port
    let ready = false;
    for (let i = 0; i < 30 && !ready; i++) {
      ready = await httpGet(`http://127.0.0.1:${hostPort}/hostname`, 1000).then(() => true, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
    const hostAddress = os.networkInterfaces().eth0?.find((a) => a.family === 'IPv4')?.address
      ?? Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.7'))?.address;
    for (const host of ['127.0.0.1', ...(hostAddress ? [hostAddress] : [])]) {
      const body = await httpGet(`http://${host}:${hostPort}/hostname`, 3000);
      expect({ host, body }).toEqual({ host, body: fs.readFileSync(path.join(rootfs, 'etc/hostname'), 'utf8') });
    }
    process.kill(server.pid!, 'SIGKILL');
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r(undefined) : server.once('exit', r)));

    await detach(id, ns.path, record);
    expect(await rulesMentioning(id)).toEqual([]);
    expect(await rulesMentioning(`--dport ${hostPort}`)).toEqual([]);
  });

  test('DEL after the namespace was deleted first leaves nothing (and is idempotent)', async () => {
    const ns = await newNetns();
    const { id, record } = await attach(ns.path, 'berth0', [{ hostPort: 20000 + crypto.randomInt(20000), containerPort: 80, protocol: 'udp' }]);
    expect((await rulesMentioning(id)).length).toBeGreaterThan(0);
    await deleteNamedNetns(ns.name);
    await detach(id, ns.path, record);
    expect(await rulesMentioning(id)).toEqual([]);
    expect(await rulesMentioning(`${ipOf(record)}/32`)).toEqual([]);
    expect(fs.existsSync(`/var/lib/cni/networks/berth0/${ipOf(record)}`)).toBe(false);
    await detach(id, undefined, record);
    await detach(id, ns.path, record);
    expect(fs.readdirSync('/run/netns').filter((n) => n.startsWith('berth-gc-'))).toEqual([]);
  });

  test('a failed ADD (last plugin of the chain fails) is rolled back and throws the plugin error', async () => {
    const name = `t-fail-${rand()}`;
    const config = {
      cniVersion: '1.0.0',
      name,
      plugins: [
        { type: 'bridge', bridge: `berth-f${rand()}`, isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: `10.79.${(third + 1) % 256}.0/24` }]] } },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'firewall' },
        { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.berth_no_such_key': '1' } },
      ],
    };
    fs.writeFileSync(path.join(configDir, `${name}.conflist`), JSON.stringify(config));
    networks.push(name);
    mine.networks.add(name);
    mine.links.add(config.plugins[0]!.bridge as string);
    const ns = await newNetns();
    const id = `t-net-${rand()}`;
    const err = (await attacher.attach(id, ns.path, { mode: 'bridge', network: name, publish: [{ hostPort: 20000 + crypto.randomInt(20000), containerPort: 80, protocol: 'tcp' }] }).catch((e: unknown) => e)) as CniPluginError;
    expect(err).toBeInstanceOf(CniPluginError);
    expect(err.plugin).toBe('tuning');
    expect(err.command).toBe('ADD');
    expect(err.message).toMatch(/berth_no_such_key/);
    expect(err.relatedErrors).toEqual([]);
    expect(await rulesMentioning(id)).toEqual([]);
    expect(store.leases(name)).toEqual([]);
    // No host veth is left on this test's own bridge (other work on the machine may add veths elsewhere).
    const onBridge = await runCommand(['ip', '-o', 'link', 'show', 'master', config.plugins[0]!.bridge as string], { allowFailure: true });
    expect(onBridge.exitCode === 0 ? onBridge.stdout.trim() : '').toBe('');
    expect((await runCommand(['ip', '-n', ns.name, 'link', 'show', 'eth0'], { allowFailure: true })).exitCode).not.toBe(0);
    // a later detach of the never-attached container is harmless
    await attacher.detach(id, ns.path, undefined);
  });

  test('detach without a record (creator killed before saving it) finds the container by its leases', async () => {
    const ns = await newNetns();
    const publish = [{ hostPort: 20000 + crypto.randomInt(20000), containerPort: 80, protocol: 'tcp' as const }];
    const { id, record } = await attach(ns.path, networks[0]!, publish);
    expect(store.leases(networks[0]!).map((l) => l.containerId)).toContain(id);
    await deleteNamedNetns(ns.name);
    // the driver passes the spec's request: the published ports portmap needs
    await detach(id, undefined, undefined, { mode: 'bridge', network: networks[0]!, publish });
    expect(await rulesMentioning(id)).toEqual([]);
    expect(await rulesMentioning(`${ipOf(record)}/32`)).toEqual([]);
    expect(store.leases(networks[0]!).map((l) => l.containerId)).not.toContain(id);
  });

  test('CHECK passes on a live attachment and fails once its interface is gone', async () => {
    const name = `t-chk-${rand()}`;
    const config = {
      cniVersion: '1.0.0',
      name,
      plugins: [
        { type: 'bridge', bridge: `berth-c${rand()}`, isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: `10.79.${(third + 2) % 256}.0/24` }]] } },
        { type: 'firewall' },
      ],
    };
    fs.writeFileSync(path.join(configDir, `${name}.conflist`), JSON.stringify(config));
    networks.push(name);
    mine.networks.add(name);
    mine.links.add(config.plugins[0]!.bridge as string);
    const ns = await newNetns();
    const { id, record } = await attach(ns.path, name);
    await attacher.check(record);
    await runCommand(['ip', '-n', ns.name, 'link', 'delete', 'eth0']);
    await expect(attacher.check(record)).rejects.toBeInstanceOf(CniPluginError);
    await detach(id, ns.path, record);
    expect(await rulesMentioning(id)).toEqual([]);
  });

  test('a container-like process attached through /proc/PID/ns/net, killed with SIGKILL, then detached: nothing left', async () => {
    // what the native driver does: the init lives in its own netns; attach by its /proc path
    const init = spawn('unshare', ['--net', '--', 'chroot', rootfs, '/bin/busybox', 'sleep', '30'], { stdio: 'ignore' });
    servers.push(init);
    const nsPath = `/proc/${init.pid}/ns/net`;
    for (let i = 0; i < 50 && fs.readlinkSync(nsPath) === fs.readlinkSync('/proc/self/ns/net'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readlinkSync(nsPath)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
    const hostPort = 20000 + crypto.randomInt(20000);
    const { id, record } = await attach(nsPath, 'berth0', [{ hostPort, containerPort: 80, protocol: 'tcp' }]);
    expect(record.netns?.path).toBe(nsPath);
    expect((await runCommand(['nsenter', `--net=${nsPath}`, '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain(record.ips[0]);
    process.kill(init.pid!, 'SIGKILL');
    await new Promise((r) => (init.exitCode !== null || init.signalCode !== null ? r(undefined) : init.once('exit', r)));
    // the driver passes the path it used; the namespace behind it is gone
    await detach(id, nsPath, record);
    expect(await rulesMentioning(id)).toEqual([]);
    expect(await rulesMentioning(`${ipOf(record)}/32`)).toEqual([]);
    expect(fs.existsSync(`/var/lib/cni/networks/berth0/${ipOf(record)}`)).toBe(false);
  });

  test('a host port is published once: a second container and a host listener are refused, nothing left', async () => {
    const hostPort = 20000 + crypto.randomInt(20000);
    const publish = [{ hostIp: '127.0.0.1', hostPort, containerPort: 80, protocol: 'tcp' as const }];
    const a = await newNetns();
    const b = await newNetns();
    const first = await attach(a.path, 'berth0', publish);
    const idB = `t-net-${rand()}`;
    await expect(attacher.attach(idB, b.path, { mode: 'bridge', network: 'berth0', publish: [{ hostPort, containerPort: 81, protocol: 'tcp' }] }))
      .rejects.toThrow(`host port ${hostPort}:81/tcp is already published by container ${first.id}`);
    expect(await rulesMentioning(idB)).toEqual([]);
    expect((await runCommand(['ip', '-n', b.name, 'link', 'show', 'eth0'], { allowFailure: true })).exitCode).not.toBe(0);
    await detach(first.id, a.path, first.record);
    const second = await attach(b.path, 'berth0', publish);
    await detach(second.id, b.path, second.record);

    const listener = http.createServer();
    await new Promise<void>((r) => listener.listen(hostPort, '127.0.0.1', () => r()));
    try {
      await expect(attacher.attach(`t-net-${rand()}`, a.path, { mode: 'bridge', network: 'berth0', publish })).rejects.toThrow(/in use by a process on the host/);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  test('attach refuses the host namespace and a missing one; none brings up loopback only', async () => {
    await expect(attacher.attach('t-net-x', '/proc/self/ns/net', { mode: 'bridge', network: 'berth0', publish: [] })).rejects.toThrow(/host's\) network namespace/);
    await expect(attacher.attach('t-net-x', '/run/netns/berth-test-missing', { mode: 'none', publish: [] })).rejects.toThrow(/does not exist/);
    await expect(attacher.attach('t-net-x', '/run/netns/x', { mode: 'bridge', network: 'no-such-net', publish: [] })).rejects.toThrow(/does not exist|no network/);
    const ns = await newNetns();
    const record = await attacher.attach(`t-net-${rand()}`, ns.path, { mode: 'none', publish: [] });
    expect(record).toMatchObject({ mode: 'none', loopback: true, ips: [] });
    expect((await runCommand(['ip', '-n', ns.name, '-o', 'link', 'show', 'lo'])).stdout).toMatch(/[<,]UP[,>]/);
    expect((await runCommand(['ip', '-n', ns.name, '-o', 'link'])).stdout.trim().split('\n')).toHaveLength(1);
    await attacher.detach(record.containerId, ns.path, record);
    const host = await attacher.attach('t-net-host', '/nonexistent', { mode: 'host', publish: [] });
    expect(host).toMatchObject({ mode: 'host', loopback: false, ips: [] });
    await attacher.detach('t-net-host', undefined, host);
  });

  test('teardown check: the host looks as before (interfaces, nat and filter rules, namespaces, leases)', async () => {
    for (const n of namespaces.splice(0)) await deleteNamedNetns(n);
    for (const n of networks.splice(0)) await store.remove(n);
    expect(live).toEqual([]);
    const after = await hostSnapshot();
    expect(mine.ids.size).toBeGreaterThan(0);
    expect(leftovers(before, after, mine)).toEqual([]);
    const others = leftovers(before, after);
    if (others.length > 0) process.stderr.write(`note: CNI state made meanwhile by other work (not this test): ${others.join('; ')}\n`);
    const ports = path.join(stateDir, 'ports');
    expect(fs.existsSync(ports) ? fs.readdirSync(ports).filter((f) => !f.startsWith('.')) : []).toEqual([]);
  });
});

function httpGet(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
