/** `berth network ls|create|rm|inspect` and the run flags, through the built CLI. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth } from '../helpers/run-cli';
import { createNamedNetns, createNetworkAttacher, DEFAULT_CNI_PATH, deleteNamedNetns, netnsPath } from '../../core/network';
import { tempStateRoot } from '../helpers/busybox-fixture';
import { describeIf } from '../helpers/backend-gate';
import { cniAvailable } from './network-gate';

const rand = () => crypto.randomBytes(3).toString('hex');

describeIf(cniAvailable())('berth network', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  const state = tempStateRoot();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-network-state-'));
  const env = { BERTH_NETWORK_DIR: dir, BERTH_NETWORK_STATE_DIR: stateDir };
  const run = (args: string[]) => berth(args, { root: state.root, env });
  const third = 1 + crypto.randomInt(250);
  const name = `t-${rand()}`;

  afterAll(async () => {
    const { store } = createNetworkAttacher({ configDir: dir, cniPath: DEFAULT_CNI_PATH, ipamDir: '/var/lib/cni/networks', stateDir });
    for (const { name: n } of store.list().networks) if (n !== 'berth0') await store.remove(n, true).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
    state.cleanup();
  });

  test('ls shows the built-in berth0', () => {
    const r = run(['network', 'ls', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.configDir).toBe(dir);
    expect(out.networks[0]).toMatchObject({ name: 'berth0', driver: 'bridge', bridge: 'berth0', subnet: '10.77.0.0/16', gateway: '10.77.0.1', source: 'built-in' });
    const text = run(['network', 'ls']);
    expect(text.stdout.split('\n')[0]).toMatch(/^NAME\s+DRIVER\s+BRIDGE\s+SUBNET\s+GATEWAY\s+CONTAINERS\s+SOURCE$/);
  });

  test('create writes a CNI list; refusals are one line with a code', () => {
    const r = run(['network', 'create', name, '--subnet', `10.79.${third}.0/24`, '--gateway', `10.79.${third}.254`]);
    expect(r).toMatchObject({ code: 0, stdout: `${name}\n` });
    const list = JSON.parse(fs.readFileSync(path.join(dir, `${name}.conflist`), 'utf8'));
    expect(list).toMatchObject({ cniVersion: '1.0.0', name, plugins: [{ type: 'bridge', bridge: `berth-${name}` }, { type: 'portmap' }, { type: 'firewall' }] });
    expect(list.plugins[0].ipam.ranges).toEqual([[{ subnet: `10.79.${third}.0/24`, gateway: `10.79.${third}.254` }]]);
    const ls = JSON.parse(run(['network', 'ls', '--format', 'json']).stdout);
    expect(ls.networks.map((n: { name: string }) => n.name)).toEqual(['berth0', name]);

    const dup = run(['network', 'create', name, '--subnet', '10.79.0.0/24']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe(`berth: network "${name}" already exists [NETWORK_EXISTS]\n`);
    const overlap = run(['network', 'create', `t-${rand()}`, '--subnet', `10.79.${third}.128/25`]);
    expect(overlap.stderr).toMatch(/^berth: --subnet 10\.79\.\d+\.128\/25 overlaps network "t-[0-9a-f]+" .*\[INVALID_ARGUMENT\]\n$/);
    expect(run(['network', 'create', 'x', '--subnet', '10.79.0.0/24', '--gateway', '10.80.0.1']).stderr).toMatch(/--gateway 10.80.0.1 is not a host address/);
    expect(run(['network', 'create', 'bad/name', '--subnet', '10.79.0.0/24']).stderr).toMatch(/not a network name/);
    expect(run(['network', 'rm', 'berth0']).stderr).toMatch(/built in and cannot be removed \[INVALID_ARGUMENT\]/);
    expect(run(['network', 'rm', 'nope']).stderr).toBe('berth: no network "nope" (berth network ls lists them) [NETWORK_NOT_FOUND]\n');
  });

  test('rm is refused while a container holds an address, then removes file, bridge and IPAM folder', async () => {
    const { attacher } = createNetworkAttacher({ configDir: dir, cniPath: DEFAULT_CNI_PATH, ipamDir: '/var/lib/cni/networks', stateDir });
    const ns = `berth-test-${rand()}`;
    await createNamedNetns(ns);
    const id = `t-net-${rand()}`;
    try {
      const record = await attacher.attach(id, netnsPath(ns), { mode: 'bridge', network: name, publish: [] });
      const ls = JSON.parse(run(['network', 'ls', '--format', 'json']).stdout);
      expect(ls.networks.find((n: { name: string }) => n.name === name).containers).toEqual([id]);
      const busy = run(['network', 'rm', name]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(`berth: network "${name}" is in use by 1 container(s): ${id} [NETWORK_IN_USE]\n`);
      await attacher.detach(id, netnsPath(ns), record);
    } finally {
      await deleteNamedNetns(ns);
    }
    expect(fs.existsSync(`/sys/class/net/berth-${name}`)).toBe(true);
    expect(run(['network', 'rm', name])).toMatchObject({ code: 0, stdout: `${name}\n` });
    expect(fs.existsSync(path.join(dir, `${name}.conflist`))).toBe(false);
    expect(fs.existsSync(`/sys/class/net/berth-${name}`)).toBe(false);
    expect(fs.existsSync(`/var/lib/cni/networks/${name}`)).toBe(false);
  });

  test('run flags: bad values are usage errors; a driver without bridge networking refuses by field', () => {
    const bad = run(['run', '--driver', 'chroot', '-p', '80', '--', 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^berth: --publish: "80": both a host port and a container port are needed/);
    const host = run(['run', '--driver', 'chroot', '--network', 'host', '-p', '8080:80', '--', 'true']);
    expect(host.stderr).toMatch(/--publish: needs bridge networking, not --network host \[INVALID_ARGUMENT\]/);
    const refused = run(['run', '--driver', 'chroot', '--network', 'bridge', '-p', '8080:80', '--', 'true']);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain('not supported by driver "chroot"');
    expect(refused.stderr).toContain('org.berth.network');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });
});
