/**
 * The docker driver against a real Docker Engine (scripts/daemons/dockerd.sh), through core's
 * ContainerManager: the same path the CLI takes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec, type Spec } from '../../../core/spec';
import type { ContainerManager } from '../../../core/runtime/container-manager';
import { requireBackend, isRoot } from '../../helpers/backend-gate';
import { testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';
import { containerName } from '../../../drivers/docker/docker-driver';
import { ROOTFS_REPOSITORY, rootfsHash } from '../../../drivers/docker/rootfs-image';
import { TEST_OPTIONS, testDocker, testDriver, testId, testManager } from './docker-test-env';

const driver = testDriver();
const docker = testDocker();
let available = false;
let rootfs: string;
let state: { root: string; cleanup: () => void };
let manager: ContainerManager;
const ids: string[] = [];

beforeAll(async () => {
  available = (await requireBackend(driver)).available && isRoot;
  rootfs = await testRootfs();
  state = tempStateRoot();
  manager = testManager(state.root);
});

afterAll(async () => {
  for (const id of ids) await manager.delete(id, true).catch(() => undefined);
  state.cleanup();
});

/** Skip (printed by requireBackend) when no engine; CI fails in requireBackend instead. */
function live(name: string, fn: () => Promise<void>, timeout = 60000): void {
  test(name, async () => {
    if (!available) return;
    await fn();
  }, timeout);
}

function spec(args: string[], edit?: (s: Spec) => void): Spec {
  const s = defaultSpec({ rootfs, args });
  edit?.(s);
  return s;
}

async function runForeground(s: Spec, stdin: number | null = null): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const io = captureStdio();
  const id = testId();
  ids.push(id);
  try {
    await manager.create({ id, bundle: state.root, spec: s, driver, stdio: { kind: 'fds', stdin, stdout: io.stdout, stderr: io.stderr } });
    await manager.start(id);
    const { exitCode } = await manager.wait(id);
    await manager.delete(id, false);
    return { exitCode, ...io.read() };
  } finally {
    io.close();
  }
}

async function inspectOrNull(nameOrId: string) {
  try {
    return await docker.getContainer(nameOrId).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

live('foreground run: stdout and stderr stay apart, exit code comes from wait', async () => {
  const r = await runForeground(spec(['sh', '-c', 'echo out; echo err >&2; echo out2; exit 3']));
  expect(r).toEqual({ exitCode: 3, stdout: 'out\nout2\n', stderr: 'err\n' });
});

live('foreground run: stdin is fed to the container and closed at its end', async () => {
  const file = path.join(os.tmpdir(), `berth-docker-stdin-${process.pid}`);
  fs.writeFileSync(file, 'line one\nline two\n');
  const fd = fs.openSync(file, 'r');
  try {
    const r = await runForeground(spec(['sh', '-c', 'wc -l; echo done >&2']), fd);
    expect(r.stdout.trim()).toBe('2');
    expect(r.stderr).toBe('done\n');
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
});

live('a terminal: the process gets a pty; its output (one stream) reaches stdout, in foreground, logs and exec', async () => {
  const fg = await runForeground(spec(['sh', '-c', 'tty; echo err >&2; exit 2'], (x) => (x.process!.terminal = true)));
  expect(fg).toEqual({ exitCode: 2, stdout: '/dev/pts/0\r\nerr\r\n', stderr: '' });

  const id = testId();
  ids.push(id);
  await manager.create({ id, bundle: state.root, spec: spec(['sh', '-c', 'echo hello; echo oops >&2; exec sleep 300'], (x) => (x.process!.terminal = true)), driver, stdio: { kind: 'log' } });
  await manager.start(id);
  let logs = { stdout: '', stderr: '' };
  for (let i = 0; i < 50 && !logs.stdout.includes('oops'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    const io = captureStdio();
    await manager.logs(id, { follow: false, stdout: io.stdout, stderr: io.stderr });
    logs = io.read();
    io.close();
  }
  expect(logs).toEqual({ stdout: 'hello\r\noops\r\n', stderr: '' });
  const io = captureStdio();
  const ex = await manager.exec(id, { args: ['sh', '-c', 'tty; echo e >&2; exit 5'], tty: true, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
  expect(ex.exitCode).toBe(5);
  expect(io.read().stdout).toMatch(/^\/dev\/pts\/\d+\r\ne\r\n$/);
  io.close();
  await manager.delete(id, true);
});

live('the default spec: private namespaces, Docker-provided standard mounts, read-only root, masked paths', async () => {
  const script = [
    'echo pid=$$',
    'echo net=$(ls /sys/class/net | tr "\\n" " ")',
    'echo hostname=$(hostname)',
    'echo nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)',
    'echo capbnd=$(grep CapBnd /proc/self/status | cut -f2)',
    'echo nofile=$(ulimit -n)',
    'touch /rootfs-write 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
    'echo sysrq=$(echo x 2>/dev/null > /proc/sysrq-trigger && echo writable || echo ro)',
    'echo kcore=$(cat /proc/timer_list 2>/dev/null | wc -c)',
    'echo seccomp=$(grep "^Seccomp:" /proc/self/status | cut -f2)',
    'echo shm=$(grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k")',
    'echo mounts=$(for d in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup/memory; do grep " $d " /proc/mounts | cut -d" " -f3,4 | cut -d, -f1; done | tr "\n" " ")',
  ].join('; ');
  const r = await runForeground(spec(['sh', '-c', script]));
  expect(r.stderr).toBe('');
  const facts = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  expect(facts).toEqual({
    pid: '1',
    net: 'lo',
    hostname: 'berth',
    nnp: '1',
    capbnd: '00000000a80425fb', // Docker's (and runc spec's) default 14
    nofile: '1024',
    rootfs: 'ro',
    sysrq: 'ro',
    kcore: '0',
    seccomp: '2', // the default spec's own profile, as a filter
    shm: 'size=65536k',
    mounts: 'proc rw tmpfs rw devpts rw tmpfs rw mqueue rw sysfs ro cgroup ro',
  });
});

live('process, resources, mounts, sysctl and seccomp reach the container', async () => {
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-docker-bind-'));
  fs.writeFileSync(path.join(hostDir, 'hello'), 'from the host\n');
  const s = spec(['sh', '-c', [
    'echo cwd=$(pwd)',
    'echo env=$GREETING',
    'echo domain=$(cat /proc/sys/kernel/domainname)',
    'echo oom=$(cat /proc/self/oom_score_adj)',
    'echo nproc=$(ulimit -u)',
    'echo capbnd=$(grep CapBnd /proc/self/status | cut -f2)',
    'echo nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)',
    'echo bind=$(cat /data/hello)',
    'echo bindwrite=$(touch /data/x 2>/dev/null && echo rw || echo ro)',
    'echo tmpfs=$(touch /scratch/x && grep " /scratch " /proc/mounts | grep -o "size=[0-9]*k")',
    'echo sysctl=$(cat /proc/sys/kernel/shm_rmid_forced)',
    'echo mkdir=$(mkdir /scratch/d 2>/dev/null && echo ok || echo denied)',
    'echo masked=$(cat /etc/passwd | wc -c)',
    'echo readonly=$(touch /scratch2/x 2>/dev/null && echo rw || echo ro)',
    'cd /sys/fs/cgroup',
    'echo mem=$(cat memory/memory.limit_in_bytes) soft=$(cat memory/memory.soft_limit_in_bytes) memsw=$(cat memory/memory.memsw.limit_in_bytes) swappiness=$(cat memory/memory.swappiness)',
    'echo shares=$(cat cpu/cpu.shares) quota=$(cat cpu/cpu.cfs_quota_us) period=$(cat cpu/cpu.cfs_period_us)',
    'echo cpus=$(cat cpuset/cpuset.cpus) mems=$(cat cpuset/cpuset.mems) pids=$(cat pids/pids.max)',
    'mknod /scratch/tun c 10 200; echo tun=$(cat /scratch/tun 2>&1 | grep -o "not permitted" || echo allowed)',
    'mknod /scratch/loop b 7 0; echo loop=$(cat /scratch/loop 2>&1 | grep -o "not permitted" || echo allowed)',
  ].join('; ')], (x) => {
    x.process!.cwd = '/tmp';
    x.process!.env = [...x.process!.env!, 'GREETING=hello there'];
    x.process!.oomScoreAdj = 300;
    x.process!.rlimits = [{ type: 'RLIMIT_NPROC', soft: 77, hard: 88 }];
    x.process!.noNewPrivileges = false;
    const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_ADMIN'];
    x.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
    x.domainname = 'example.test';
    x.mounts!.push({ destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro'] });
    x.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1024k', 'mode=1777'] });
    x.mounts!.push({ destination: '/scratch2', type: 'tmpfs', source: 'tmpfs', options: ['size=1024k'] });
    x.linux!.sysctl = { 'kernel.shm_rmid_forced': '1' };
    x.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    x.linux!.maskedPaths = ['/etc/passwd'];
    x.linux!.readonlyPaths = ['/scratch2'];
    x.linux!.resources = {
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }],
      memory: { limit: 64 * 1048576, reservation: 32 * 1048576, swap: 128 * 1048576, swappiness: 7 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 42 },
    };
  });
  try {
    const r = await runForeground(s);
    const facts = Object.fromEntries(r.stdout.trim().split(/\n| (?=[a-z]+=)/).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
    expect(facts).toEqual({
      cwd: '/tmp',
      env: 'hello there',
      domain: 'example.test',
      oom: '300',
      nproc: '77',
      capbnd: '00000000080010cb',
      nnp: '0',
      bind: 'from the host',
      bindwrite: 'ro',
      tmpfs: 'size=1024k',
      sysctl: '1',
      mkdir: 'denied',
      masked: '0',
      readonly: 'ro',
      mem: String(64 * 1048576),
      soft: String(32 * 1048576),
      memsw: String(128 * 1048576),
      swappiness: '7',
      shares: '512',
      quota: '50000',
      period: '100000',
      cpus: '0',
      mems: '0',
      pids: '42',
      tun: 'allowed',
      loop: 'not permitted',
    });
    expect(r.exitCode).toBe(0);
  } finally {
    fs.rmSync(hostDir, { recursive: true, force: true });
  }
});

live('a non-root user with supplementary groups keeps only the bounding set; no hostname keeps the host name', async () => {
  const r = await runForeground(spec(['sh', '-c', 'id; grep CapEff /proc/self/status; hostname'], (x) => {
    delete x.hostname;
    x.process!.user = { uid: 1000, gid: 1000, additionalGids: [44] };
    const caps = ['CAP_CHOWN'];
    x.process!.capabilities = { bounding: caps, effective: [], permitted: [] };
  }));
  // No hostname with a uts namespace: the host's name, as a fresh uts namespace has.
  expect(r.stdout).toBe(`uid=1000 gid=1000 groups=44,1000\nCapEff:\t0000000000000000\n${os.hostname()}\n`);
});

live('namespaces left out of the spec are the host\'s', async () => {
  const hostUts = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  const r = await runForeground(spec(['sh', '-c', 'hostname; test $$ != 1 && echo hostpid; ls /sys/class/net | grep -qv "^lo$" && echo hostnet; grep "^Seccomp:" /proc/self/status'], (x) => {
    x.linux!.namespaces = [{ type: 'mount' }];
    delete x.linux!.seccomp; // and no seccomp section: no filter (Docker's default profile is not applied)
    delete x.hostname;
    x.mounts = x.mounts!.filter((m) => m.destination !== '/dev/shm' && m.destination !== '/dev/mqueue');
  }));
  expect(r.stdout).toBe(`${hostUts}\nhostpid\nhostnet\nSeccomp:\t0\n`);
});

live('detached: logs come from Docker, exec, pause/resume, stats, update, kill, delete leaves nothing', async () => {
  const id = testId();
  ids.push(id);
  const images = async () => (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort();
  const s = spec(['sh', '-c', 'echo started; echo warn >&2; exec sleep 300']);
  await manager.create({ id, bundle: state.root, spec: s, driver, stdio: { kind: 'log' } });
  const imagesBefore = await images();
  expect(imagesBefore).toContain(`${ROOTFS_REPOSITORY}:${rootfsHash(rootfs)}`);
  expect((await manager.state(id)).status).toBe('created');
  await manager.start(id);
  const running = await manager.state(id);
  expect(running.status).toBe('running');
  expect(running.pid).toBeGreaterThan(1);

  const logs = captureStdio();
  for (let i = 0; i < 50 && !logs.read().stderr; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await manager.logs(id, { follow: false, stdout: logs.stdout, stderr: logs.stderr });
    if (logs.read().stderr) break;
  }
  logs.close();
  const once = captureStdio();
  await manager.logs(id, { follow: false, stdout: once.stdout, stderr: once.stderr });
  expect(once.read()).toEqual({ stdout: 'started\n', stderr: 'warn\n' });
  once.close();

  const io = captureStdio();
  const ex = await manager.exec(id, { args: ['sh', '-c', 'echo in-exec; echo exec-err >&2; exit 4'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
  expect(ex.exitCode).toBe(4);
  expect(io.read()).toEqual({ stdout: 'in-exec\n', stderr: 'exec-err\n' });
  io.close();

  await manager.pause(id);
  expect((await manager.state(id)).status).toBe('paused');
  await manager.resume(id);
  expect((await manager.state(id)).status).toBe('running');

  const stats = await manager.stats(id);
  expect(stats.memory?.usageBytes).toBeGreaterThan(0);
  expect(stats.cpu?.usageNanos).toBeGreaterThan(0);
  expect(stats.pids?.current).toBeGreaterThanOrEqual(1);

  await manager.update(id, { memory: { limit: 96 * 1048576 }, pids: { limit: 33 } });
  const limits = captureStdio();
  await manager.exec(id, { args: ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max'], stdio: { stdin: null, stdout: limits.stdout, stderr: limits.stderr } });
  expect(limits.read().stdout).toBe(`${96 * 1048576}\n33\n`);
  limits.close();
  await expect(manager.update(id, { memory: { swappiness: 3 } })).rejects.toThrow(/linux\.resources\.memory\.swappiness/);

  await manager.kill(id, 'SIGKILL', false);
  const exit = await manager.wait(id);
  expect(exit.exitCode).toBe(137);
  expect((await manager.state(id)).status).toBe('stopped');

  const name = containerName({ id, stateDir: manager.store.driverDir(id) });
  await manager.delete(id, false);
  expect(await inspectOrNull(name)).toBeNull();
  expect(await images()).toEqual(imagesBefore);
});

live('a new manager and driver re-adopt a detached container from its record alone', async () => {
  const id = testId();
  ids.push(id);
  await manager.create({ id, bundle: state.root, spec: spec(['sleep', '300']), driver, stdio: { kind: 'log' } });
  await manager.start(id);
  // A fresh driver object (as in a new CLI process) finds it from the record alone.
  const fresh = testManager(state.root);
  expect((await fresh.state(id)).status).toBe('running');
  await fresh.delete(id, true);
  expect(await inspectOrNull(containerName({ id, stateDir: manager.store.driverDir(id) }))).toBeNull();
});

live('delete with an empty handle removes a half-created container by its derived name', async () => {
  const id = testId();
  const stateDir = path.join(state.root, id, 'driver');
  const name = containerName({ id, stateDir });
  const image = `${ROOTFS_REPOSITORY}:${rootfsHash(rootfs)}`;
  await docker.createContainer({ name, Image: image, Cmd: ['true'] });
  try {
    const ref = { id, bundle: state.root, spec: spec(['true']), stateDir, options: TEST_OPTIONS, handle: {} };
    await testDriver().delete(ref, true);
    expect(await inspectOrNull(name)).toBeNull();
    await testDriver().delete(ref, true); // idempotent
  } finally {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  }
});

live('refusals name the field and leave no container or record behind', async () => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['no mount namespace', (x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'mount')), /linux\.namespaces: .*mount namespace/],
    ['effective != bounding', (x) => (x.process!.capabilities!.effective = ['CAP_CHOWN']), /process\.capabilities\.effective/],
    ['proc elsewhere', (x) => x.mounts!.push({ destination: '/proc2', type: 'proc', source: 'proc' }), /mounts\[7\]/],
    ['writable /sys', (x) => (x.mounts![5]!.options = ['nosuid']), /mounts\[5\]\.options/],
    ['user namespace', (x) => {
      x.linux!.namespaces!.push({ type: 'user' });
      x.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      x.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, /linux\.namespaces\[6\]/],
    ['a deny device rule', (x) => x.linux!.resources!.devices!.push({ allow: false, type: 'c', major: 1, minor: 3 }), /linux\.resources\.devices\[1\]/],
  ];
  const before = (await docker.listContainers({ all: true })).length;
  for (const [what, edit, field] of cases) {
    const id = testId();
    await expect(manager.create({ id, bundle: state.root, spec: spec(['true'], edit), driver, stdio: { kind: 'log' } })).rejects.toThrow(field);
    expect(await manager.store.exists(id)).toBe(false);
    void what;
  }
  expect((await docker.listContainers({ all: true })).length).toBe(before);
});
