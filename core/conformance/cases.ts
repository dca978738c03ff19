/**
 * The conformance cases: one spec change, one command, one expected result each; operation cases
 * drive exec, pause, stats... through the manager. The same list runs on every driver (jest's
 * test/conformance and `berth conformance`): a driver that declares a case's features must pass it,
 * one that does not must refuse it clearly and create nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, NamespaceType, Spec } from '../spec/oci-spec';
import type { ConformanceCase, OperationHarness } from './conformance-case';
import { capabilityNumber } from '../spec/capabilities';
import { DEFAULT_CAPABILITIES } from '../spec/capabilities';
import { NETWORK_CASES } from './network-cases';

function ensureNamespace(spec: Spec, type: NamespaceType): void {
  spec.linux = spec.linux ?? {};
  const list = (spec.linux.namespaces = spec.linux.namespaces ?? []);
  if (!list.some((ns) => ns.type === type)) list.push({ type });
}

function ensureMount(spec: Spec, mount: Mount): void {
  spec.mounts = (spec.mounts ?? []).filter((m) => m.destination !== mount.destination);
  spec.mounts.push(mount);
}

/** Make sure /proc is mounted (the base spec omits it on drivers that cannot mount proc). */
function ensureProc(spec: Spec): void {
  if (!(spec.mounts ?? []).some((m) => m.destination === '/proc')) {
    ensureNamespace(spec, 'pid');
    ensureNamespace(spec, 'mount');
    ensureMount(spec, { destination: '/proc', type: 'proc', source: 'proc' });
  }
}

function capMask(names: readonly string[]): string {
  const mask = names.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n))), 0n);
  return mask.toString(16).padStart(16, '0');
}

/** The name of a namespace's link in /proc/PID/ns (`mnt` and `net` differ from the spec's names). */
function procName(type: NamespaceType): string {
  return type === 'network' ? 'net' : type === 'mount' ? 'mnt' : type;
}

function namespaceCase(type: NamespaceType, feature: `namespace.${NamespaceType}`): ConformanceCase {
  return {
    kind: 'process',
    id: feature,
    title: `private ${type} namespace`,
    features: [feature],
    args: ['readlink', `/proc/self/ns/${procName(type)}`],
    mutate: (spec) => {
      ensureProc(spec);
      ensureNamespace(spec, type);
      if (type === 'user') {
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    },
    expect: {
      exitCode: 0,
      check: (out, env) => {
        const inside = out.stdout.trim();
        const host = env.hostNamespace(procName(type));
        if (!/^[a-z_]+:\[\d+\]$/.test(inside)) return `unexpected readlink output ${JSON.stringify(out.stdout)}`;
        return inside === host ? `container shares the host's ${type} namespace (${host})` : undefined;
      },
    },
  };
}

async function expectEqual<T>(what: string, got: T, want: T): Promise<void> {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

async function captureOf(h: OperationHarness, fn: (fds: { stdout: number; stderr: number }) => Promise<void>) {
  const out = path.join(h.env.scratch, `op-out-${Math.random().toString(16).slice(2)}`);
  const err = `${out}.err`;
  const fds = { stdout: fs.openSync(out, 'w+'), stderr: fs.openSync(err, 'w+') };
  try {
    await fn(fds);
  } finally {
    fs.closeSync(fds.stdout);
    fs.closeSync(fds.stderr);
  }
  return { stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
}

export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  // --- process basics: every driver ---
  { kind: 'process', id: 'process.args', title: 'runs the command with its arguments', features: ['process.args'], args: ['echo', 'hello', 'world'], expect: { exitCode: 0, stdout: 'hello world\n' } },
  { kind: 'process', id: 'exit-code', title: "returns the container's exit code", features: ['process.args'], args: ['sh', '-c', 'exit 7'], expect: { exitCode: 7 } },
  { kind: 'process', id: 'stdio-split', title: 'keeps stdout and stderr apart', features: ['process.args'], args: ['sh', '-c', 'echo out; echo err >&2; exit 3'], expect: { exitCode: 3, stdout: 'out\n', stderr: 'err\n' } },
  {
    kind: 'process', id: 'process.env', title: 'sets the environment exactly', features: ['process.env'],
    args: ['sh', '-c', 'echo "$GREETING|$PATH"'],
    mutate: (s) => { s.process!.env = ['PATH=/bin:/usr/bin', 'GREETING=hi there']; },
    expect: { exitCode: 0, stdout: 'hi there|/bin:/usr/bin\n' },
  },
  { kind: 'process', id: 'process.cwd', title: 'starts in process.cwd', features: ['process.cwd'], args: ['pwd'], mutate: (s) => { s.process!.cwd = '/etc'; }, expect: { exitCode: 0, stdout: '/etc\n' } },
  {
    kind: 'process', id: 'process.user', title: 'runs as uid:gid', features: ['process.user'], args: ['sh', '-c', 'id -u; id -g'],
    mutate: (s) => { s.process!.user = { uid: 1000, gid: 1001 }; }, expect: { exitCode: 0, stdout: '1000\n1001\n' },
  },
  {
    kind: 'process', id: 'process.user.additionalGids', title: 'sets additional groups', features: ['process.user.additionalGids'], args: ['id', '-G'],
    mutate: (s) => { s.process!.user = { uid: 1000, gid: 1000, additionalGids: [2000, 3000] }; },
    expect: { exitCode: 0, check: (o) => (['1000', '2000', '3000'].every((g) => o.stdout.split(/\s+/).includes(g)) ? undefined : `groups ${o.stdout.trim()}`) },
  },
  { kind: 'process', id: 'process.user.umask', title: 'applies the umask', features: ['process.user.umask'], args: ['sh', '-c', 'umask'], mutate: (s) => { s.process!.user.umask = 0o027; }, expect: { exitCode: 0, stdout: '0027\n' } },
  {
    kind: 'process', id: 'hostname', title: 'sets the hostname in a private uts namespace', features: ['hostname', 'namespace.uts'], args: ['hostname'],
    mutate: (s) => { ensureNamespace(s, 'uts'); s.hostname = 'conformance'; }, expect: { exitCode: 0, stdout: 'conformance\n' },
  },
  // --- namespaces, one by one ---
  namespaceCase('pid', 'namespace.pid'),
  namespaceCase('network', 'namespace.network'),
  namespaceCase('ipc', 'namespace.ipc'),
  namespaceCase('uts', 'namespace.uts'),
  namespaceCase('mount', 'namespace.mount'),
  namespaceCase('cgroup', 'namespace.cgroup'),
  namespaceCase('user', 'namespace.user'),
  {
    kind: 'process', id: 'network.none', title: 'a private network namespace has only lo', features: ['namespace.network', 'mount.proc'],
    args: ['cat', '/proc/net/dev'], mutate: (s) => { ensureProc(s); ensureNamespace(s, 'network'); },
    expect: {
      exitCode: 0,
      check: (o) => {
        const names = o.stdout.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
        return names.join(',') === 'lo' ? undefined : `interfaces: ${names.join(',')}`;
      },
    },
  },
  {
    kind: 'process', id: 'userns.mappings', title: 'uid 0 inside maps to the spec host uid', features: ['namespace.user', 'userns.mappings'], args: ['cat', '/proc/self/uid_map'],
    mutate: (s) => {
      ensureProc(s);
      ensureNamespace(s, 'user');
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
    expect: { exitCode: 0, stdout: /^\s*0\s+100000\s+65536\s*$/ },
  },
  // --- security ---
  {
    kind: 'process', id: 'process.capabilities', title: 'capability sets equal the spec', features: ['process.capabilities'], args: ['grep', '-E', '^Cap(Eff|Prm|Bnd|Inh|Amb)', '/proc/self/status'],
    mutate: (s) => { ensureProc(s); s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] }; },
    expect: {
      exitCode: 0,
      check: (o) => {
        const want = capMask(['CAP_CHOWN', 'CAP_KILL']);
        const rows = Object.fromEntries(o.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
        const expected: Record<string, string> = { CapEff: want, CapPrm: want, CapBnd: want, CapInh: '0'.repeat(16), CapAmb: '0'.repeat(16) };
        const bad = Object.entries(expected).filter(([k, v]) => rows[k] !== v).map(([k, v]) => `${k}=${rows[k]} (want ${v})`);
        return bad.length ? bad.join(', ') : undefined;
      },
    },
  },
  {
    kind: 'process', id: 'process.capabilities.default', title: "the default is Docker's 14 capabilities", features: ['process.capabilities'], args: ['grep', '^CapEff', '/proc/self/status'],
    mutate: (s) => { ensureProc(s); const c = [...DEFAULT_CAPABILITIES]; s.process!.capabilities = { bounding: c, effective: [...c], permitted: [...c] }; },
    expect: { exitCode: 0, stdout: new RegExp(`CapEff:\\s+${capMask(DEFAULT_CAPABILITIES)}\\n`) },
  },
  {
    kind: 'process', id: 'process.noNewPrivileges', title: 'no_new_privs is set', features: ['process.noNewPrivileges'], args: ['grep', '^NoNewPrivs', '/proc/self/status'],
    mutate: (s) => { ensureProc(s); s.process!.noNewPrivileges = true; }, expect: { exitCode: 0, stdout: /NoNewPrivs:\s+1/ },
  },
  {
    kind: 'process', id: 'linux.seccomp', title: 'a syscall denied by seccomp fails with EPERM', features: ['linux.seccomp'], args: ['sh', '-c', 'mkdir /dev/shm/berth-probe 2>&1; echo done'],
    mutate: (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }; },
    expect: { stdout: /Operation not permitted[\s\S]*done/ },
  },
  {
    kind: 'process', id: 'linux.maskedPaths', title: 'masked paths read as empty', features: ['linux.maskedPaths'], args: ['sh', '-c', 'wc -c < /proc/timer_list'],
    mutate: (s) => { ensureProc(s); s.linux!.maskedPaths = ['/proc/timer_list']; }, expect: { stdout: /^\s*0\s*$/ },
  },
  {
    kind: 'process', id: 'linux.readonlyPaths', title: 'read-only paths refuse writes', features: ['linux.readonlyPaths'],
    args: ['sh', '-c', 'v=$(cat /proc/sys/kernel/shm_rmid_forced); (echo "$v" > /proc/sys/kernel/shm_rmid_forced) 2>/dev/null && echo writable || echo readonly'],
    mutate: (s) => { ensureProc(s); ensureNamespace(s, 'ipc'); s.linux!.readonlyPaths = ['/proc/sys']; }, expect: { stdout: 'readonly\n' },
  },
  {
    kind: 'process', id: 'root.readonly', title: 'a read-only rootfs refuses writes', features: ['root.readonly'],
    args: ['sh', '-c', '(touch /.berth-probe && rm -f /.berth-probe) 2>/dev/null && echo writable || echo readonly'],
    mutate: (s) => { s.root!.readonly = true; }, expect: { exitCode: 0, stdout: 'readonly\n' },
  },
  // --- limits, each enforced ---
  {
    kind: 'process', id: 'process.rlimits', title: 'rlimits apply', features: ['process.rlimits'], args: ['sh', '-c', 'ulimit -n'],
    mutate: (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 123 }]; }, expect: { exitCode: 0, stdout: '123\n' },
  },
  {
    kind: 'process', id: 'process.oomScoreAdj', title: 'oom_score_adj applies', features: ['process.oomScoreAdj'], args: ['cat', '/proc/self/oom_score_adj'],
    mutate: (s) => { ensureProc(s); s.process!.oomScoreAdj = 500; }, expect: { exitCode: 0, stdout: '500\n' },
  },
  {
    kind: 'process', id: 'linux.sysctl', title: 'sysctls apply inside the container', features: ['linux.sysctl'], args: ['cat', '/proc/sys/kernel/shm_rmid_forced'],
    mutate: (s) => { ensureProc(s); ensureNamespace(s, 'ipc'); s.linux!.sysctl = { 'kernel.shm_rmid_forced': '1' }; }, expect: { exitCode: 0, stdout: '1\n' },
  },
  {
    // sysctl(8)'s other spelling: a path below /proc/sys (how a name with a dotted component, e.g.
    // the VLAN interface eth0.100, is written), read the same way by every driver.
    kind: 'process', id: 'linux.sysctl.path', title: 'a sysctl named by its /proc/sys path', features: ['linux.sysctl'], args: ['cat', '/proc/sys/kernel/msgmax'],
    mutate: (s) => { ensureProc(s); ensureNamespace(s, 'ipc'); s.linux!.sysctl = { 'kernel/msgmax': '12345' }; }, expect: { exitCode: 0, stdout: '12345\n' },
  },
  {
    kind: 'process', id: 'resources.memory.limit', title: 'a memory limit is enforced (OOM kill)', features: ['resources.memory.limit'],
    // Doubles a string to 256 MiB (bounded): under a 32 MiB limit it is killed; without one it prints "survived".
    args: ['sh', '-c', 'a=x; i=0; while [ $i -lt 28 ]; do a="$a$a"; i=$((i+1)); done; echo survived'],
    mutate: (s) => { s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 * 1024 * 1024 } }; },
    expect: { check: (o) => (o.exitCode !== 0 && !o.stdout.includes('survived') ? undefined : `not killed (exit ${o.exitCode}, ${o.stdout.trim()})`) },
  },
  {
    kind: 'process', id: 'resources.pids', title: 'a pids limit contains a fork loop', features: ['resources.pids'],
    args: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; echo started-all'],
    mutate: (s) => { s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } }; },
    expect: { check: (o) => (o.stdout.includes('started-all') ? `40 processes started under a limit of 10 (exit ${o.exitCode})` : undefined) },
  },
  // --- mounts by kind ---
  {
    kind: 'process', id: 'mount.bind', title: 'bind mounts a host folder', features: ['mount.bind'], args: ['cat', '/mnt/hello.txt'],
    mutate: (s, env) => {
      fs.writeFileSync(path.join(env.scratch, 'hello.txt'), 'from the host\n');
      ensureMount(s, { destination: '/mnt', type: 'bind', source: env.scratch, options: ['rbind', 'rw'] });
    },
    expect: { exitCode: 0, stdout: 'from the host\n' },
  },
  {
    kind: 'process', id: 'mount.readonly', title: 'a read-only bind mount refuses writes', features: ['mount.bind', 'mount.readonly'],
    args: ['sh', '-c', 'touch /mnt/new 2>/dev/null && echo writable || echo readonly'],
    mutate: (s, env) => { ensureMount(s, { destination: '/mnt', type: 'bind', source: env.scratch, options: ['rbind', 'ro'] }); },
    expect: { exitCode: 0, stdout: 'readonly\n' },
  },
  {
    kind: 'process', id: 'mount.tmpfs', title: 'mounts a tmpfs', features: ['mount.tmpfs', 'mount.proc'], args: ['sh', '-c', 'grep " /mnt " /proc/mounts | cut -d" " -f3'],
    mutate: (s) => { ensureProc(s); ensureMount(s, { destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] }); },
    expect: { exitCode: 0, stdout: 'tmpfs\n' },
  },
  // --- hooks ---
  {
    kind: 'process', id: 'hooks.prestart', title: 'prestart hook runs with the state on stdin', features: ['hooks.prestart'], args: ['true'],
    mutate: (s, env) => { s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${env.scratch}/prestart.json`] }] }; },
    expect: {
      exitCode: 0,
      check: (_o, env) => {
        const file = path.join(env.scratch, 'prestart.json');
        if (!fs.existsSync(file)) return 'prestart hook did not run';
        const state = JSON.parse(fs.readFileSync(file, 'utf8') || '{}') as { id?: string; pid?: number };
        return state.id && state.pid ? undefined : `hook state lacks id/pid: ${fs.readFileSync(file, 'utf8')}`;
      },
    },
  },
  {
    kind: 'process', id: 'hooks.poststart', title: 'poststart hook runs', features: ['hooks.poststart'], args: ['sleep', '1'],
    mutate: (s, env) => { s.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${env.scratch}/poststart.json`] }] }; },
    expect: { exitCode: 0, check: (_o, env) => (fs.existsSync(path.join(env.scratch, 'poststart.json')) ? undefined : 'poststart hook did not run') },
  },
  // --- operations ---
  {
    kind: 'operation', id: 'lifecycle', title: 'create/start/kill/delete walk the OCI states', features: [],
    run: async (h) => {
      const id = h.newId();
      await h.manager.create({ id, bundle: h.manager.store.dir(id), spec: h.spec(['sleep', '30']), driver: h.driver, stdio: { kind: 'log' } });
      await expectEqual('after create', (await h.manager.state(id)).status, 'created');
      await h.manager.start(id);
      await expectEqual('after start', (await h.manager.state(id)).status, 'running');
      await h.manager.kill(id, 'SIGKILL', false);
      const exit = await h.manager.wait(id);
      await expectEqual('exit code after SIGKILL', exit.exitCode, 137);
      await expectEqual('after kill', (await h.manager.state(id)).status, 'stopped');
      await h.manager.delete(id, false);
      await expectEqual('record after delete', await h.manager.store.exists(id), false);
    },
  },
  {
    kind: 'operation', id: 'op.logs', title: 'a detached container keeps stdout and stderr for logs', features: ['op.logs'],
    run: async (h) => {
      const id = await h.startDetached(['sh', '-c', 'echo out; echo err >&2']);
      await h.manager.wait(id);
      const got = await captureOf(h, (fds) => h.manager.logs(id, { follow: false, ...fds }));
      await expectEqual('logs', got, { stdout: 'out\n', stderr: 'err\n' });
    },
  },
  {
    kind: 'operation', id: 'op.exec', title: 'exec runs a command in a running container', features: ['op.exec'],
    run: async (h) => {
      const id = await h.startDetached(['sleep', '30']);
      let code = -1;
      const got = await captureOf(h, async (fds) => {
        code = (await h.manager.exec(id, { args: ['sh', '-c', 'echo in; echo ex >&2; exit 4'], stdio: { stdin: null, ...fds } })).exitCode;
      });
      await expectEqual('exec output', { code, ...got }, { code: 4, stdout: 'in\n', stderr: 'ex\n' });
    },
  },
  {
    kind: 'operation', id: 'op.pause', title: 'pause freezes and resume thaws', features: ['op.pause'],
    run: async (h) => {
      const id = await h.startDetached(['sleep', '30']);
      await h.manager.pause(id);
      await expectEqual('after pause', (await h.manager.state(id)).status, 'paused');
      await h.manager.resume(id);
      await expectEqual('after resume', (await h.manager.state(id)).status, 'running');
    },
  },
  {
    kind: 'operation', id: 'op.stats', title: 'stats report usage', features: ['op.stats'],
    run: async (h) => {
      const id = await h.startDetached(['sleep', '30']);
      const s = await h.manager.stats(id);
      const ok = (s.memory?.usageBytes ?? 0) > 0 || (s.pids?.current ?? 0) > 0 || (s.cpu?.usageNanos ?? 0) > 0;
      if (!ok) throw new Error(`stats report nothing: ${JSON.stringify(s)}`);
    },
  },
  {
    kind: 'operation', id: 'op.update', title: 'update changes a live memory limit', features: ['op.update', 'op.stats', 'resources.memory.limit'],
    run: async (h) => {
      const id = await h.startDetached(['sleep', '30'], (s) => { s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 1048576 } }; });
      await h.manager.update(id, { memory: { limit: 128 * 1048576 } });
      await expectEqual('limit after update', (await h.manager.stats(id)).memory?.limitBytes, 128 * 1048576);
    },
  },
  {
    kind: 'operation', id: 'op.killAll', title: 'kill --all ends every process of the container', features: ['op.killAll'],
    run: async (h) => {
      const id = await h.startDetached(['sh', '-c', 'sleep 100 & sleep 100 & wait']);
      await new Promise((r) => setTimeout(r, 300));
      await h.manager.kill(id, 'SIGKILL', true);
      await h.manager.wait(id);
      await expectEqual('after kill --all', (await h.manager.state(id)).status, 'stopped');
    },
  },
  ...NETWORK_CASES,
];
