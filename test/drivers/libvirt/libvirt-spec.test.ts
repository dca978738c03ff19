/**
 * Every spec feature the libvirt driver declares, checked from inside real containers (and from
 * the host's cgroup files for the limits); refusals by field through the real ContainerManager.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireBackend, describeIf, isRoot } from '../../helpers/backend-gate';
import { captureStdio } from '../../helpers/capture-stdio';
import { privateRootfs, testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { harness, hostCgroupFile, leftovers, specFor, URI } from './libvirt-fixture';
import { ContainerManager, DriverRegistry, LineLogger, StateStore, loadDriversConfig, capabilityNumber, DEFAULT_CAPABILITIES, type ContainerRef, type Spec } from '../../../core';

const reachable = isRoot && spawnSync('virsh', ['-c', URI, 'version'], { encoding: 'utf8' }).status === 0;
const suite = process.env.CI === 'true' ? describe : describeIf(reachable);

const mask = (caps: readonly string[]) => caps.reduce((m, c) => m | (1n << BigInt(capabilityNumber(c))), 0n);

suite('libvirt driver: spec features inside real containers', () => {
  const h = harness();
  let rootfs: string;
  let host: string;
  let own: { dir: string; cleanup: () => void };

  beforeAll(async () => {
    own = privateRootfs();
    for (const d of ['mnt/rw', 'mnt/ro', 'scratch']) fs.mkdirSync(path.join(own.dir, d), { recursive: true });
    await requireBackend(h.driver);
    rootfs = await testRootfs();
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lv-spec-'));
    fs.mkdirSync(path.join(host, 'rw/sub'), { recursive: true });
    fs.mkdirSync(path.join(host, 'rw/secret'), { recursive: true });
    fs.writeFileSync(path.join(host, 'rw/secret/key'), 'hidden');
    fs.mkdirSync(path.join(host, 'ro'));
  });
  afterAll(async () => {
    await h.cleanup();
    own.cleanup();
    fs.rmSync(host, { recursive: true, force: true });
  });

  /** Run `script` with `edit` applied to the default spec; return stdout lines as key -> value, and the ref. */
  async function facts(script: string, edit: (s: Spec) => void, root = rootfs): Promise<{ facts: Record<string, string>; out: string; ref: ContainerRef; exitCode: number }> {
    const io = captureStdio();
    try {
      const ref = await h.create(specFor(root, ['sh', '-c', script], edit), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await h.driver.start(ref);
      const { exitCode } = await h.driver.wait(ref);
      const { stdout, stderr } = io.read();
      if (exitCode !== 0) throw new Error(`container exited ${exitCode}: ${stderr}`);
      const out: Record<string, string> = {};
      for (const line of stdout.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
      }
      return { facts: out, out: stdout, ref, exitCode };
    } finally {
      io.close();
    }
  }

  it('root: env, cwd, hostname, domainname, namespaces, capabilities, rlimits, no_new_privs, read-only rootfs', async () => {
    const script = [
      'echo "env=$(env | grep -v ^PWD= | grep -v ^SHLVL= | sort | tr "\\n" " ")"',
      'echo "pwd=$(pwd)"',
      'echo "hostname=$(hostname)"',
      'echo "domainname=$(cat /proc/sys/kernel/domainname)"',
      'echo "pid1=$(tr "\\0" " " < /proc/1/cmdline | cut -d" " -f1)"',
      'echo "nprocs=$(ls -d /proc/[0-9]* | wc -l)"',
      'for n in ipc uts mnt net pid cgroup; do echo "ns.$n=$(readlink /proc/self/ns/$n)"; done',
      'grep -E "^(CapBnd|CapEff|CapPrm|CapInh|CapAmb|NoNewPrivs)" /proc/self/status | tr -d "\\t" | sed "s/:/=/"',
      'echo "nofile=$(ulimit -n)"',
      'touch /written 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
    ].join('; ');
    const { facts: f, ref } = await facts(script, (s) => {
      s.process!.env = ['PATH=/bin:/usr/bin', 'GREETING=hello world'];
      s.process!.cwd = '/etc';
      s.hostname = 'spec-host';
      s.domainname = 'spec.domain';
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      s.process!.noNewPrivileges = true;
    });
    expect(f.env!.trim()).toBe('GREETING=hello world PATH=/bin:/usr/bin');
    expect(f.pwd).toBe('/etc');
    expect(f.hostname).toBe('spec-host');
    expect(f.domainname).toBe('spec.domain');
    expect(f.pid1).toBe('/dev/.berth/berth-lxc-init');
    expect(Number(f.nprocs)).toBeLessThanOrEqual(8);
    for (const n of ['ipc', 'uts', 'mnt', 'net', 'pid', 'cgroup']) expect(f[`ns.${n}`]).not.toBe(fs.readlinkSync(`/proc/self/ns/${n}`));
    const caps = mask(DEFAULT_CAPABILITIES);
    expect(BigInt(`0x${f.CapBnd}`)).toBe(caps);
    expect(BigInt(`0x${f.CapEff}`)).toBe(caps);
    expect(BigInt(`0x${f.CapPrm}`)).toBe(caps);
    expect(BigInt(`0x${f.CapInh}`)).toBe(0n);
    expect(f.NoNewPrivs).toBe('1');
    expect(f.nofile).toBe('321');
    expect(f.rootfs).toBe('ro');
    await h.driver.delete(ref, false);
    expect(leftovers(ref)).toEqual([]);
  });

  it('non-root: uid, gid, additional gids, umask, exact capability sets with ambient', async () => {
    const { facts: f } = await facts('echo "id=$(id -u):$(id -g):$(id -G)"; echo "umask=$(umask)"; grep -E "^(CapBnd|CapEff|CapAmb)" /proc/self/status | tr -d "\\t" | sed "s/:/=/"', (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 };
      const kill = ['CAP_KILL'];
      s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: kill, permitted: kill, inheritable: kill, ambient: kill };
    });
    expect(f.id).toBe('1000:1000:1000 10 20');
    expect(f.umask).toBe('0027');
    expect(BigInt(`0x${f.CapBnd}`)).toBe(mask(['CAP_KILL', 'CAP_CHOWN']));
    expect(BigInt(`0x${f.CapEff}`)).toBe(mask(['CAP_KILL']));
    expect(BigInt(`0x${f.CapAmb}`)).toBe(mask(['CAP_KILL']));
  });

  it('mounts: bind rw/ro, tmpfs with size and mode, proc, sysfs ro, devpts, mqueue, masked and read-only paths', async () => {
    const script = [
      'touch /mnt/rw/file && echo bindrw=yes || echo bindrw=no',
      'touch /mnt/ro/file 2>/dev/null && echo bindro=no || echo bindro=yes',
      'touch /mnt/rw/sub/file 2>/dev/null && echo rosub=no || echo rosub=yes',
      'echo "secret=$(ls /mnt/rw/secret | wc -l)"',
      'echo "timerlist=$(wc -c < /proc/timer_list)"',
      'echo "scratch=$(grep " /scratch " /proc/self/mounts)"',
      'echo "shm=$(grep " /dev/shm " /proc/self/mounts)"',
      'echo "proc=$(grep -c "^proc /proc proc" /proc/self/mounts)"',
      'echo "sys=$(grep " /sys sysfs" /proc/self/mounts | cut -d" " -f4 | cut -d, -f1)"',
      'echo "devpts=$(grep -c " /dev/pts devpts" /proc/self/mounts)"',
      'echo "mqueue=$(grep " /dev/mqueue mqueue" /proc/self/mounts | cut -d" " -f4)"',
      'echo "shmmode=$(stat -c %a /dev/shm)"',
      'echo "scratchmode=$(stat -c %a /scratch)"',
    ].join('; ');
    const { facts: f } = await facts(script, (s) => {
      s.mounts!.push({ destination: '/mnt/rw', type: 'bind', source: path.join(host, 'rw'), options: ['rbind', 'rw'] });
      s.mounts!.push({ destination: '/mnt/ro', type: 'bind', source: path.join(host, 'ro'), options: ['rbind', 'ro'] });
      s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=2m', 'mode=710'] });
      s.linux!.maskedPaths = ['/proc/timer_list', '/mnt/rw/secret'];
      s.linux!.readonlyPaths = ['/proc/sys', '/mnt/rw/sub'];
      s.root!.readonly = true;
    }, own.dir);
    expect(fs.existsSync(path.join(host, 'rw/file'))).toBe(true);
    expect(f.bindrw).toBe('yes');
    expect(f.bindro).toBe('yes');
    expect(f.rosub).toBe('yes');
    expect(f.secret).toBe('0');
    expect(fs.readFileSync('/proc/timer_list').length).toBeGreaterThan(0);
    expect(f.timerlist).toBe('0');
    expect(f.scratch).toMatch(/tmpfs \/scratch tmpfs rw,nosuid,.*size=2048k/);
    expect(f.scratchmode).toBe('710');
    expect(f.shm).toMatch(/\/dev\/shm tmpfs rw,nosuid,nodev,noexec,.*size=65536k/);
    expect(f.shmmode).toBe('1777');
    expect(f.proc).toBe('1');
    expect(f.sys).toBe('ro');
    expect(f.devpts).toBe('1');
    expect(f.mqueue).toMatch(/^rw,nosuid,nodev,noexec/);
  });

  it('user namespace (driver level; the feature is not declared, see docs): <idmap> maps root to the spec host ids; exec enters it', async () => {
    expect(h.driver.features.has('namespace.user')).toBe(false);
    const ref = await h.create(specFor(rootfs, ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; sleep 300'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      // libvirt mounted /dev before entering the user namespace: its size cannot change there.
      s.mounts!.find((m) => m.destination === '/dev')!.options = ['nosuid', 'mode=755'];
    }), { kind: 'log' });
    await h.driver.start(ref);
    const state = await h.driver.state(ref);
    expect(fs.readFileSync(`/proc/${state.pid}/status`, 'utf8')).toMatch(/^Uid:\s+100000\s/m);
    const io = captureStdio();
    try {
      const r = await h.driver.exec(ref, { args: ['sh', '-c', 'cat /proc/self/uid_map; id -u'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect(r.exitCode).toBe(0);
      expect(io.read().stdout.split(/\s+/).filter(Boolean)).toEqual(['0', '100000', '65536', '0']);
    } finally {
      io.close();
    }
    expect(fs.readlinkSync(`/proc/${state.pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    await h.driver.delete(ref, true);
    expect(leftovers(ref)).toEqual([]);
  });

  it('memory limit, reservation and swap, cpu shares, quota and cpuset land in the container\'s cgroups', async () => {
    const ref = await h.create(specFor(rootfs, ['sleep', '300'], (s) => {
      s.linux!.resources = {
        memory: { limit: 96 * 1024 * 1024, reservation: 48 * 1024 * 1024, swap: 192 * 1024 * 1024 },
        cpu: { shares: 300, quota: 30000, period: 100000, cpus: '0' },
      };
    }), { kind: 'log' });
    await h.driver.start(ref);
    const pid = Number(ref.handle.initPid);
    expect(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(96 * 1024 * 1024));
    expect(hostCgroupFile(pid, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(48 * 1024 * 1024));
    expect(hostCgroupFile(pid, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(192 * 1024 * 1024));
    expect(hostCgroupFile(pid, 'cpu', 'cpu.shares')).toBe('300');
    expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('30000');
    expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(hostCgroupFile(pid, 'cpuset', 'cpuset.cpus')).toBe('0');
    await h.driver.delete(ref, true);
    expect(leftovers(ref)).toEqual([]);
  });

  it('refuses by field, before anything exists, what libvirt cannot honour', async () => {
    const file = path.join(host, 'a-file');
    fs.writeFileSync(file, 'x');
    const cases: [(s: Spec) => void, RegExp][] = [
      [(s) => s.mounts!.push({ destination: '/etc/hosts', type: 'bind', source: file, options: ['rbind'] }), /^mounts\[\d+\]\.source: .*not a directory/],
      [(s) => s.mounts!.push({ destination: '/no-such-dir', type: 'bind', source: host, options: ['rbind'] }), /^mounts\[\d+\]\.destination: .*read-only rootfs/],
      [(s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'ipc')), /^linux\.namespaces: .*ipc/],
      [(s) => s.mounts!.push({ destination: '/x', type: 'bind', source: host, options: ['rbind', 'rshared'] }), /^mounts\[\d+\]\.options/],
    ];
    for (const [edit, message] of cases) {
      const ctx = h.context(specFor(rootfs, ['true'], edit));
      await expect(h.driver.create({ ...ctx, stdio: { kind: 'log' } })).rejects.toThrow(message);
      expect(fs.readdirSync(ctx.stateDir)).toEqual([]);
      expect(leftovers({ ...ctx, handle: {} })).toEqual([]);
    }
  });
});

suite('libvirt driver through ContainerManager and drivers.json', () => {
  let manager: ContainerManager;
  let state: { root: string; cleanup: () => void };
  let rootfs: string;

  beforeAll(async () => {
    rootfs = await testRootfs();
    state = tempStateRoot();
    const config = loadDriversConfig([path.resolve(__dirname, '../../../drivers.json')]);
    manager = new ContainerManager(new DriverRegistry(config), new StateStore(state.root), new LineLogger({ level: 'error', format: 'text' }));
  });
  afterAll(async () => {
    for (const id of await manager.store.ids()) await manager.delete(id, true).catch(() => undefined);
    state.cleanup();
  });

  it('creates, starts, waits and deletes; the record\'s handle lets a fresh manager find it', async () => {
    const driver = await (manager as unknown as { registry: DriverRegistry }).registry.get('libvirt');
    expect((await driver.fingerprint()).available).toBe(true);
    const io = captureStdio();
    const id = `t-libvirt-m${process.pid}`;
    try {
      await manager.create({ id, bundle: state.root, spec: specFor(rootfs, ['sh', '-c', 'sleep 0.3; echo done; exit 3']), driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect((await manager.state(id)).status).toBe('created');
      await manager.start(id);
      const fresh = new ContainerManager(new DriverRegistry(loadDriversConfig([path.resolve(__dirname, '../../../drivers.json')])), new StateStore(state.root), new LineLogger({ level: 'error', format: 'text' }));
      expect((await fresh.state(id)).status).toBe('running');
      expect((await fresh.wait(id)).exitCode).toBe(3);
      expect(io.read().stdout).toBe('done\n');
      await fresh.delete(id, false);
      expect(await manager.store.exists(id)).toBe(false);
    } finally {
      io.close();
    }
  });

  it('refuses undeclared features by field before creating anything', async () => {
    const driver = await (manager as unknown as { registry: DriverRegistry }).registry.get('libvirt');
    const spec = specFor(rootfs, ['true'], (s) => (s.linux!.resources = { pids: { limit: 10 } }));
    await expect(manager.create({ id: 't-libvirt-refused', bundle: state.root, spec, driver, stdio: { kind: 'log' } })).rejects.toThrow(/linux\.resources\.pids\.limit/);
    expect(await manager.store.exists('t-libvirt-refused')).toBe(false);
  });
});
