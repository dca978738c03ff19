/**
 * Unit tests of the pure spec -> create body translation (the same paths run for real in
 * docker-driver.test.ts against the engine).
 */
import { defaultSpec, DEFAULT_MASKED_PATHS, type Spec } from '../../../core/spec';
import { capabilityChanges, dockerCreateBody, dockerSeccompProfile, apiAtLeast } from '../../../drivers/docker/docker-create-body';
import { dockerUpdateBody } from '../../../drivers/docker/docker-update-body';
import { DockerRefusalError } from '../../../drivers/docker/docker-refusal-error';

const options = { image: 'berth-rootfs:abc', apiVersion: '1.41' };

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec({ rootfs: '/rootfs', args: ['sh', '-c', 'echo hi'] });
  edit?.(s);
  return s;
}

function refusal(edit: (s: Spec) => void, opts = options): DockerRefusalError {
  try {
    dockerCreateBody(spec(edit), opts);
  } catch (err) {
    if (err instanceof DockerRefusalError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('dockerCreateBody', () => {
  test('the default spec: process, private namespaces, standard mounts, security options, Init off', () => {
    const body = dockerCreateBody(spec(), { ...options, labels: { 'org.berth.id': 'c1' } });
    expect(body).toMatchObject({
      Image: 'berth-rootfs:abc',
      Cmd: ['sh', '-c', 'echo hi'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      WorkingDir: '/',
      User: '0:0',
      Hostname: 'berth',
      Labels: { 'org.berth.id': 'c1' },
      Tty: false,
      OpenStdin: false,
      AttachStdout: false,
      NetworkDisabled: true,
    });
    expect(body.HostConfig).toEqual({
      Init: false,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: {} },
      ReadonlyRootfs: true,
      CapAdd: [],
      CapDrop: [],
      SecurityOpt: ['no-new-privileges=true', `seccomp=${JSON.stringify(dockerSeccompProfile(spec().linux!.seccomp!))}`, 'apparmor=unconfined'],
      NetworkMode: 'none',
      PidMode: '',
      IpcMode: 'private',
      UTSMode: '',
      CgroupnsMode: 'private',
      ShmSize: 65536 * 1024,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      MaskedPaths: [...DEFAULT_MASKED_PATHS],
      ReadonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      DeviceCgroupRules: [],
    });
  });

  test('no seccomp section means no filter: seccomp=unconfined (Docker would apply its default profile)', () => {
    const body = dockerCreateBody(spec((s) => delete s.linux!.seccomp), options);
    expect(body.HostConfig.SecurityOpt).toEqual(['no-new-privileges=true', 'seccomp=unconfined', 'apparmor=unconfined']);
  });

  test('a uts namespace without a hostname keeps the host\'s name, as a new uts namespace does', () => {
    const body = dockerCreateBody(spec((s) => delete s.hostname), { ...options, hostHostname: 'host1' });
    expect(body.Hostname).toBe('host1');
    const hostUts = dockerCreateBody(spec((s) => {
      delete s.hostname;
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
    }), { ...options, hostHostname: 'host1' });
    expect(hostUts.Hostname).toBeUndefined();
  });

  test('a foreground run attaches stdout/stderr, and stdin only when given', () => {
    expect(dockerCreateBody(spec(), { ...options, attach: { stdin: false } })).toMatchObject({ AttachStdout: true, AttachStderr: true, AttachStdin: false, OpenStdin: false });
    expect(dockerCreateBody(spec(), { ...options, attach: { stdin: true } })).toMatchObject({ AttachStdin: true, OpenStdin: true, StdinOnce: true });
  });

  test('namespaces left out become host modes; the mount namespace cannot be left out', () => {
    const body = dockerCreateBody(spec((s) => {
      s.linux!.namespaces = [{ type: 'mount' }];
      delete s.hostname;
      s.mounts = s.mounts!.filter((m) => m.destination !== '/dev/shm');
    }), options);
    expect(body.HostConfig).toMatchObject({ NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host', CgroupnsMode: 'host' });
    expect(body.NetworkDisabled).toBe(false);
    expect(refusal((s) => (s.linux!.namespaces = [{ type: 'pid' }])).field).toBe('linux.namespaces');
    expect(refusal((s) => (s.linux!.namespaces!.push({ type: 'time' }))).field).toBe('linux.namespaces[6]');
    expect(refusal((s) => (s.linux!.namespaces![0]!.path = '/proc/1/ns/pid')).field).toBe('linux.namespaces[0].path');
    expect(refusal((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'ipc'))).field).toBe('mounts[3]');
  });

  test('process fields: user and groups, oom score, rlimits, no-new-privileges, domainname', () => {
    const body = dockerCreateBody(spec((s) => {
      s.process!.user = { uid: 1000, gid: 100, additionalGids: [44, 45] };
      s.process!.capabilities = { bounding: ['CAP_KILL'], effective: [], permitted: [] };
      s.process!.oomScoreAdj = -200;
      s.process!.rlimits = [{ type: 'RLIMIT_NPROC', soft: 5, hard: 10 }];
      s.process!.noNewPrivileges = false;
      s.domainname = 'example.test';
    }), options);
    expect(body).toMatchObject({ User: '1000:100', Domainname: 'example.test' });
    expect(body.HostConfig).toMatchObject({ GroupAdd: ['44', '45'], OomScoreAdj: -200, Ulimits: [{ Name: 'nproc', Soft: 5, Hard: 10 }] });
    expect(body.HostConfig.SecurityOpt).toContain('no-new-privileges=false');
    expect(refusal((s) => (s.process!.user.umask = 0o22)).field).toBe('process.user.umask');
    expect(dockerCreateBody(spec((s) => (s.process!.terminal = true)), options).Tty).toBe(true);
    expect(refusal((s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 24, width: 80 };
    }).field).toBe('process.consoleSize');
  });

  test('mounts: bind with ro and propagation, tmpfs keeps exec/suid/dev explicit, standard mounts checked', () => {
    const body = dockerCreateBody(spec((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'rslave'] });
      s.mounts!.push({ destination: '/one', source: '/srv/one', options: ['bind'] });
      s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=1777'] });
    }), options);
    expect(body.HostConfig.Mounts).toEqual([
      { Type: 'bind', Source: '/srv/data', Target: '/data', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
      { Type: 'bind', Source: '/srv/one', Target: '/one', ReadOnly: false, BindOptions: { NonRecursive: true } },
    ]);
    expect(body.HostConfig.Tmpfs).toEqual({ '/scratch': 'nosuid,size=1m,mode=1777,exec,dev' });
    expect(refusal((s) => s.mounts!.push({ destination: '/d', type: 'bind', source: '/x', options: ['rbind', 'nosuid'] })).field).toBe('mounts[7].options');
    expect(refusal((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['huge=always'] })).field).toBe('mounts[7].options');
    expect(refusal((s) => s.mounts!.push({ destination: '/p', type: 'proc', source: 'proc' })).field).toBe('mounts[7]');
    expect(refusal((s) => (s.mounts![5]!.options = ['nosuid'])).message).toMatch(/mounts\[5\]\.options: Docker mounts \/sys read-only/);
    expect(refusal((s) => (s.mounts![1]!.options = ['mode=755', 'size=1m'])).message).toMatch(/"size=1m" differs from Docker's own \/dev/);
    expect(dockerCreateBody(spec((s) => (s.mounts![3]!.options = ['nosuid', 'size=2m'])), options).HostConfig.ShmSize).toBe(2 * 1048576);
  });

  test('resources: memory, cpu, cpuset, pids, device allow rules; swap stays unlimited unless given', () => {
    const body = dockerCreateBody(spec((s) => {
      s.linux!.resources = {
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rw' }, { allow: true, type: 'b', major: 7, access: 'r' }],
        memory: { limit: 1 << 26, reservation: 1 << 25, swappiness: 10 },
        cpu: { shares: 256, quota: 20000, cpus: '0-1', mems: '0' },
        pids: { limit: 99 },
      };
    }), options);
    expect(body.HostConfig).toMatchObject({
      Memory: 1 << 26, MemoryReservation: 1 << 25, MemorySwap: -1, MemorySwappiness: 10,
      CpuShares: 256, CpuQuota: 20000, CpuPeriod: 100000, CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 99,
      DeviceCgroupRules: ['c 10:200 rw', 'b 7:* r'],
    });
    expect(refusal((s) => (s.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] })).field).toBe('linux.resources.devices[0]');
    expect(refusal((s) => s.linux!.resources!.devices!.push({ allow: false, type: 'c', major: 1, minor: 3 })).field).toBe('linux.resources.devices[1]');
    expect(refusal((s) => (s.linux!.resources = { cpu: { realtimeRuntime: 1000 } })).field).toBe('linux.resources.cpu.realtimeRuntime');
    expect(refusal((s) => (s.linux!.resources = { memory: { kernel: 1 << 20 } })).field).toBe('linux.resources.memory.kernel');
  });

  test('sysctl, masked and read-only paths; the latter refused on an API older than verified', () => {
    const body = dockerCreateBody(spec((s) => (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' })), options);
    expect(body.HostConfig.Sysctls).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(refusal(() => undefined, { ...options, apiVersion: '1.40' }).field).toBe('linux.maskedPaths');
    const bare = dockerCreateBody(spec((s) => { delete s.linux!.maskedPaths; delete s.linux!.readonlyPaths; }), options);
    expect(bare.HostConfig).toMatchObject({ MaskedPaths: [], ReadonlyPaths: [] });
    expect(apiAtLeast('1.41', '1.41') && apiAtLeast('2.0', '1.41') && !apiAtLeast('1.9', '1.41')).toBe(true);
  });
});

describe('capabilityChanges', () => {
  test('CapAdd and CapDrop against Docker default set', () => {
    const caps = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
    expect(capabilityChanges({ bounding: caps, effective: caps, permitted: caps }, 0)).toEqual({
      CapAdd: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
      CapDrop: ['CAP_AUDIT_WRITE', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'],
    });
    expect(capabilityChanges(undefined, 0)).toEqual({ CapAdd: [], CapDrop: ['ALL'] });
  });

  test('shapes Docker cannot give are refused by field', () => {
    const c = ['CAP_CHOWN'];
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as DockerRefusalError).field;
      }
      return undefined;
    };
    expect(field(() => capabilityChanges({ bounding: c, effective: [], permitted: c }, 0))).toBe('process.capabilities.effective');
    expect(field(() => capabilityChanges({ bounding: c, effective: c, permitted: [] }, 0))).toBe('process.capabilities.permitted');
    // Non-root: the kernel clears effective/permitted at exec in every runtime; only bounding is carried.
    expect(capabilityChanges({ bounding: c, effective: c, permitted: c }, 1000)).toEqual(capabilityChanges({ bounding: c, effective: c, permitted: c }, 0));
    expect(field(() => capabilityChanges({ bounding: c, effective: c, permitted: c, inheritable: c }, 0))).toBe('process.capabilities.inheritable');
    expect(field(() => capabilityChanges({ bounding: c, effective: c, permitted: c, ambient: c }, 0))).toBe('process.capabilities.ambient');
  });
});

describe('dockerSeccompProfile', () => {
  test('translates the OCI section to Docker profile JSON', () => {
    expect(dockerSeccompProfile({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
    })).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }],
    });
  });

  test('notify, listener and flags are refused', () => {
    expect(() => dockerSeccompProfile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' })).toThrow(/linux\.seccomp\.listenerPath/);
    expect(() => dockerSeccompProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] })).toThrow(/linux\.seccomp\.flags/);
    expect(() => dockerSeccompProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] })).toThrow(/linux\.seccomp\.syscalls\[0\]\.action/);
  });
});

describe('dockerUpdateBody', () => {
  test('limits Docker changes live; a memory limit restates the swap limit', () => {
    expect(dockerUpdateBody({ memory: { limit: 1 << 27 }, cpu: { shares: 100 }, pids: { limit: 5 } })).toEqual({ Memory: 1 << 27, MemorySwap: -1, CpuShares: 100, PidsLimit: 5 });
    expect(dockerUpdateBody({ memory: { limit: 1 << 27 } }, { memory: { limit: 1 << 26, swap: 1 << 28 } })).toEqual({ Memory: 1 << 27, MemorySwap: 1 << 28 });
  });

  test('limits Docker cannot change live are refused by field', () => {
    expect(() => dockerUpdateBody({ memory: { swappiness: 1 } })).toThrow(/linux\.resources\.memory\.swappiness/);
    expect(() => dockerUpdateBody({ devices: [{ allow: false, access: 'rwm' }] })).toThrow(/linux\.resources\.devices/);
  });
});
