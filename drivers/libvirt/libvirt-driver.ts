import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { injectable } from 'inversify';
import {
  BaseDriver,
  BerthError,
  OperationNotSupportedError,
  copyLogs,
  isAlive,
  isSameProcess,
  logPaths,
  pollUntil,
  processStartTime,
  signalNumber,
  type ContainerContext,
  type ContainerRef,
  type ContainerStats,
  type CreateRequest,
  type DriverHandle,
  type DriverState,
  type ExecRequest,
  type ExecutionDriver,
  type ExitResult,
  type Feature,
  type Fingerprint,
  type LogsRequest,
  type JsonValue,
  type Resources,
} from '../../core';
import { attachNetwork, detachNetwork } from './libvirt-network';
import { DRIVER_NAME, lxcDomain, refuse, renderDomainXml } from './domain-xml';
import { processOptions } from './init-arguments';
import { readInitStatus, statusFile } from './init-status';
import { assertHostPaths } from './host-checks';
import { childrenOf, hostPidOf, processesOf } from './container-processes';
import { VirshClient } from './virsh-client';
import { VirshCreateBaseline } from './raw-baseline';

export const DEFAULT_URI = 'lxc:///system';
const INIT_BINARY = 'berth-lxc-init';
const LIBVIRT_LXC_RUN = '/run/libvirt/lxc';
const LIBVIRT_LXC_LOG = '/var/log/libvirt/lxc';

interface LibvirtHandle {
  domain: string;
  uuid: string;
  /** libvirt_lxc, the controller that supervises the container (the domain's id). */
  controllerPid: number;
  /** berth-lxc-init, PID 1 inside the container. */
  initPid: number;
  initStart?: number;
  /** The NetworkAttacher's record of a bridge-mode container. */
  network?: JsonValue;
}

/** The folder holding berth-lxc-init: next to the compiled driver, or the build output when run from source. */
export function initBinaryDir(): string | undefined {
  const candidates = [path.join(__dirname, 'init'), path.resolve(__dirname, '../../dist/drivers/libvirt/init')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, INIT_BINARY)));
}

/**
 * libvirt LXC domains through libvirtd (`virsh`). Each container is a transient domain whose init is
 * berth-lxc-init: it waits on a fifo between create and start, writes the user's process's stdout
 * and stderr to fds passed with `virsh create --pass-fds` (the caller's own fds, or log files) and
 * records the exit code, which libvirt itself does not report. libvirt's controller (libvirt_lxc)
 * supervises the container, so it outlives the CLI.
 */
@injectable()
export class LibvirtDriver extends BaseDriver implements ExecutionDriver {
  readonly name = DRIVER_NAME;
  readonly description = 'libvirt LXC domains through libvirtd (virsh), with a small init of berth\'s own';
  readonly features: ReadonlySet<Feature> = new Set<Feature>([
    'process.args',
    'process.env',
    'process.cwd',
    'process.user',
    'process.user.additionalGids',
    'process.user.umask',
    'process.capabilities',
    'process.rlimits',
    'process.noNewPrivileges',
    'root.readonly',
    'hostname',
    'domainname',
    'namespace.pid',
    'namespace.network',
    'network.bridge',
    'network.publish',
    'namespace.mount',
    'namespace.ipc',
    'namespace.uts',
    'namespace.cgroup',
    // namespace.user / userns.mappings: translated to <idmap> and tested at the driver level, but not
    // declared: libvirt makes /dev on the host side, so inside a user namespace the default spec's
    // /dev options (size=65536k, strictatime) cannot be applied and nearly every spec would be refused.
    'mount.bind',
    'mount.tmpfs',
    'mount.proc',
    'mount.sysfs',
    'mount.devpts',
    'mount.mqueue',
    'mount.readonly',
    'linux.maskedPaths',
    'linux.readonlyPaths',
    'resources.memory.limit',
    'resources.memory.reservation',
    'resources.memory.swap',
    'resources.cpu.shares',
    'resources.cpu.quota',
    'resources.cpu.cpus',
    'op.exec',
    'op.pause',
    'op.stats',
    'op.update',
    'op.logs',
    'op.recover',
    'op.killAll',
  ]);

  /** `berth bench`'s same-run reference: `virsh create` of a bare domain + wait. */
  readonly rawBaseline = new VirshCreateBaseline(DEFAULT_URI);

  async fingerprint(): Promise<Fingerprint> {
    const uri = DEFAULT_URI;
    const hint = 'apt-get install libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients; scripts/daemons/libvirtd.sh start';
    const which = spawnSync('virsh', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) return { available: false, reason: 'virsh not found', installHint: hint, health: 'undetected', attributes: {} };
    if (process.getuid?.() !== 0) return { available: false, reason: 'libvirt LXC (lxc:///system) needs root', health: 'unhealthy', attributes: {} };
    const initDir = initBinaryDir();
    if (!initDir) return { available: false, reason: `${INIT_BINARY} is not built`, installHint: 'npm run build', health: 'unhealthy', attributes: {} };
    try {
      const v = await new VirshClient(uri).version();
      return {
        available: true,
        health: 'healthy',
        ...(v.library ? { version: v.library } : {}),
        attributes: { uri, hypervisor: v.hypervisor ?? '?', init: path.join(initDir, INIT_BINARY), interface: 'virsh' },
      };
    } catch (err) {
      return { available: false, reason: `libvirtd does not answer on ${uri}: ${(err as Error).message}`, installHint: hint, health: 'unhealthy', attributes: { uri } };
    }
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const virsh = this.virsh(request);
    const initDir = initBinaryDir();
    if (!initDir) throw new BerthError('DRIVER_UNAVAILABLE', `${INIT_BINARY} is not built (npm run build)`);
    const withStdin = request.stdio.kind === 'fds' && request.stdio.stdin !== null;
    const name = domainName(request.id);
    const uuid = crypto.randomUUID();
    const domain = lxcDomain(request.spec, { name, uuid, initHostDir: initDir, hostMemoryBytes: os.totalmem(), withStdin });
    assertHostPaths(request.spec);

    const dir = request.stateDir;
    const xmlFile = path.join(dir, 'domain.xml');
    fs.writeFileSync(xmlFile, renderDomainXml(domain));
    const fifo = path.join(dir, 'start.fifo');
    const mk = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (mk.status !== 0) throw new BerthError('BACKEND_FAILED', `mkfifo ${fifo} failed: ${mk.stderr}`);
    const opened: number[] = [];
    const open = (file: string, flags: number) => {
      const fd = fs.openSync(file, flags, 0o600);
      opened.push(fd);
      return fd;
    };
    try {
      let out: number;
      let err: number;
      if (request.stdio.kind === 'fds') {
        out = request.stdio.stdout;
        err = request.stdio.stderr;
      } else {
        const logs = logPaths(dir);
        out = open(logs.stdout, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND);
        err = open(logs.stderr, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND);
      }
      const start = open(fifo, fs.constants.O_RDWR);
      const status = open(statusFile(dir), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND);
      const fds = [out, err, start, status];
      if (withStdin && request.stdio.kind === 'fds') fds.push(request.stdio.stdin!);
      await virsh.createWithFds(xmlFile, fds);
    } catch (e) {
      this.removeFiles(dir);
      throw e;
    } finally {
      opened.forEach((fd) => fs.closeSync(fd));
    }
    try {
      const handle = await this.adopt(request, name, uuid);
      const s = await pollUntil(() => {
        const st = readInitStatus(dir);
        if (st.ready || st.exitCode !== undefined) return st;
        return isSameProcess(handle.initPid, handle.initStart) ? undefined : { ...st, exitCode: 255 };
      }, 15000, 'berth-lxc-init to set the container up');
      if (!s.ready) throw new BerthError('BACKEND_FAILED', `the container's set-up failed: ${this.setupError(request)}`);
      // The init waits on start.fifo: eth0 exists before the user's process runs.
      const network = await attachNetwork(request.id, request.spec, handle.initPid);
      if (network !== undefined) handle.network = network;
      return { ...handle };
    } catch (e) {
      await this.teardown(request, { domain: name, uuid });
      await detachNetwork(request.id, request.spec, undefined, undefined).catch(() => undefined);
      this.removeFiles(dir);
      throw e;
    }
  }

  async start(ref: ContainerRef): Promise<void> {
    const fd = fs.openSync(path.join(ref.stateDir, 'start.fifo'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, 'g');
    } finally {
      fs.closeSync(fd);
    }
    await pollUntil(() => {
      const st = readInitStatus(ref.stateDir);
      return st.startedPid !== undefined || st.exitCode !== undefined ? true : undefined;
    }, 15000, 'the container to start');
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    const h = this.handle(ref);
    const st = readInitStatus(ref.stateDir);
    if (st.exitCode !== undefined) return { status: 'stopped', exitCode: st.exitCode };
    if (!h || !isSameProcess(h.initPid, h.initStart)) return { status: 'stopped', exitCode: 255 };
    if (st.startedPid === undefined) return { status: 'created', pid: h.initPid };
    const pid = hostPidOf(h.initPid, st.startedPid) ?? h.initPid;
    const libvirtState = await this.virsh(ref).domainState(h.uuid);
    if (libvirtState === undefined) return { status: 'stopped', exitCode: readInitStatus(ref.stateDir).exitCode ?? 255 };
    return { status: libvirtState === 'paused' ? 'paused' : 'running', pid };
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    const h = this.handle(ref);
    const code = await pollUntil(() => {
      const st = readInitStatus(ref.stateDir);
      if (st.exitCode !== undefined) return st.exitCode;
      if (!h || !isSameProcess(h.initPid, h.initStart)) return readInitStatus(ref.stateDir).exitCode ?? 255;
      return undefined;
    }, 365 * 24 * 3600 * 1000, 'the container to exit', 10);
    const signal = code > 128 ? signalName(code - 128) : undefined;
    return { exitCode: code, ...(signal ? { signal } : {}) };
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    const h = this.handle(ref);
    const s = await this.state(ref);
    if (!h || s.status === 'stopped') return;
    if (s.status === 'created') {
      killQuietly(h.initPid, signal);
      return;
    }
    if (all) {
      for (const pid of processesOf(h.initPid)) if (pid !== h.initPid) killQuietly(pid, signal);
    } else if (s.pid !== undefined && s.pid !== h.initPid) {
      killQuietly(s.pid, signal);
    }
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const h = this.handle(ref) ?? this.handleFromFiles(ref);
    // The core has checked the status unless `force`; a created container's init is destroyed with the domain.
    void force;
    const full = this.handle(ref);
    const alive = full !== undefined && isSameProcess(full.initPid, full.initStart);
    // While the namespace exists, so every plugin can undo its part; otherwise (init gone, or a
    // half-created record without the init's pid) after the domain is gone, through a stand-in.
    if (alive) await detachNetwork(ref.id, ref.spec, full.network, `/proc/${full.initPid}/ns/net`);
    if (h) await this.teardown(ref, h);
    if (!alive) await detachNetwork(ref.id, ref.spec, full?.network, undefined);
    this.removeFiles(ref.stateDir);
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    const h = this.requireHandle(ref);
    if (request.tty) throw new OperationNotSupportedError(this.name, 'exec --tty', 'no terminal support; stdout and stderr are passed as they are');
    const initDir = initBinaryDir();
    if (!initDir) throw new BerthError('DRIVER_UNAVAILABLE', `${INIT_BINARY} is not built (npm run build)`);
    const proc = ref.spec.process!;
    const process2 = {
      ...proc,
      cwd: request.cwd ?? proc.cwd,
      user: request.user ? { ...proc.user, ...request.user } : proc.user,
    };
    const argv = [path.join(initDir, INIT_BINARY), 'enter', '--pid', String(h.initPid), ...processOptions(process2), '--', ...request.args];
    const env = Object.fromEntries((request.env ?? proc.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: [request.stdio.stdin ?? 'ignore', request.stdio.stdout, request.stdio.stderr] });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, sig) => {
        const exitCode = sig ? 128 + signalNumber(sig) : (code ?? 255);
        const name = exitCode > 128 ? signalName(exitCode - 128) : undefined;
        resolve({ exitCode, ...(name ? { signal: name } : {}) });
      });
    });
  }

  override async pause(ref: ContainerRef): Promise<void> {
    await this.virsh(ref).run(['suspend', this.requireHandle(ref).uuid]);
  }

  override async resume(ref: ContainerRef): Promise<void> {
    await this.virsh(ref).run(['resume', this.requireHandle(ref).uuid]);
  }

  override async stats(ref: ContainerRef): Promise<ContainerStats> {
    const h = this.requireHandle(ref);
    const virsh = this.virsh(ref);
    const [mem, cpu] = await Promise.all([virsh.memoryStats(h.uuid), virsh.cpuStats(h.uuid)]);
    const limit = mem.actual !== undefined ? mem.actual * 1024 : undefined;
    return {
      ...(mem.rss !== undefined ? { memory: { usageBytes: mem.rss * 1024, ...(limit !== undefined && limit < os.totalmem() ? { limitBytes: limit } : {}) } } : {}),
      ...(cpu.cpu_time !== undefined ? { cpu: { usageNanos: Math.round(cpu.cpu_time * 1e9) } } : {}),
      pids: { current: processesOf(h.initPid).length - 1 },
    };
  }

  override async update(ref: ContainerRef, resources: Resources): Promise<void> {
    const h = this.requireHandle(ref);
    const virsh = this.virsh(ref);
    const field = 'linux.resources';
    if (resources.cpu?.cpus !== undefined || resources.cpu?.mems !== undefined) {
      throw refuse(`${field}.cpu.cpus`, 'libvirt LXC cannot change the cpuset of a running domain');
    }
    const mem = resources.memory;
    if (mem?.limit !== undefined) {
      const kib = mem.limit > 0 ? Math.ceil(mem.limit / 1024) : Math.floor(os.totalmem() / 1024);
      const r = await virsh.run(['setmem', h.uuid, String(kib), '--live'], true);
      if (r.exitCode !== 0) throw refuse(`${field}.memory.limit`, `virsh setmem: ${r.stderr.trim()} (the limit cannot go above the one the container was created with)`);
    }
    const memtune: string[] = [];
    if (mem?.reservation !== undefined) memtune.push('--soft-limit', mem.reservation > 0 ? `${Math.ceil(mem.reservation / 1024)}` : '-1');
    if (mem?.swap !== undefined) memtune.push('--swap-hard-limit', mem.swap > 0 ? `${Math.ceil(mem.swap / 1024)}` : '-1');
    if (memtune.length > 0) await virsh.run(['memtune', h.uuid, ...memtune, '--live']);
    const cpu = resources.cpu;
    const sched: string[] = [];
    if (cpu?.shares !== undefined) sched.push(`cpu_shares=${cpu.shares}`);
    if (cpu?.period !== undefined) sched.push(`vcpu_period=${cpu.period}`);
    if (cpu?.quota !== undefined) sched.push(`vcpu_quota=${cpu.quota > 0 ? cpu.quota : -1}`);
    if (sched.length > 0) await virsh.run(['schedinfo', h.uuid, '--live', ...sched]);
  }

  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    await copyLogs(logPaths(ref.stateDir), request, request.follow, async () => (await this.state(ref)).status === 'stopped');
  }

  override async recover(ref: ContainerRef): Promise<DriverHandle> {
    this.requireHandle(ref);
    return ref.handle;
  }

  private virsh(ctx: ContainerContext): VirshClient {
    const uri = ctx.options.uri;
    return new VirshClient(typeof uri === 'string' && uri ? uri : DEFAULT_URI);
  }

  /** Find the controller and init libvirt started for this domain. */
  private async adopt(ctx: ContainerContext, name: string, uuid: string): Promise<LibvirtHandle> {
    let controllerPid: number | undefined;
    try {
      controllerPid = Number(fs.readFileSync(path.join(LIBVIRT_LXC_RUN, `${name}.pid`), 'utf8').trim());
    } catch {
      const r = await this.virsh(ctx).run(['domid', uuid], true);
      if (r.exitCode !== 0) throw new BerthError('BACKEND_FAILED', `the domain ended during set-up: ${this.setupError(ctx as CreateRequest)}`);
      controllerPid = Number(r.stdout.trim());
    }
    const initPid = await pollUntil(() => childrenOf(controllerPid!)[0], 5000, 'libvirt_lxc to start the init');
    return { domain: name, uuid, controllerPid, initPid, initStart: processStartTime(initPid) };
  }

  /**
   * Destroy (and undefine, should it be persistent) the domain, then remove what libvirt leaves.
   * A container whose init already exited needs no virsh call: libvirt_lxc exits with it and
   * libvirtd forgets the transient domain, so only wait for that.
   */
  private async teardown(ctx: ContainerContext & { stateDir: string }, h: Pick<LibvirtHandle, 'domain' | 'uuid'> & Partial<LibvirtHandle>): Promise<void> {
    const pidFile = path.join(LIBVIRT_LXC_RUN, `${h.domain}.pid`);
    const controller = h.controllerPid;
    const initGone = readInitStatus(ctx.stateDir).exitCode !== undefined || (h.initPid !== undefined && !isSameProcess(h.initPid, h.initStart));
    if (initGone && controller) {
      await pollUntil(() => (isAlive(controller) || fs.existsSync(pidFile) ? undefined : true), 3000, 'libvirt to remove the domain').catch(() => undefined);
    }
    if (!controller || isAlive(controller) || fs.existsSync(pidFile)) {
      const virsh = this.virsh(ctx);
      if (await virsh.onDomain(['destroy', h.uuid])) await virsh.onDomain(['undefine', h.uuid]).catch(() => false);
      if (controller) await pollUntil(() => (isAlive(controller) ? undefined : true), 10000, 'libvirt_lxc to exit').catch(() => undefined);
    }
    // libvirt_lxc leaves its monitor socket behind when the init exits on its own.
    fs.rmSync(path.join(LIBVIRT_LXC_RUN, `${h.domain}.sock`), { force: true });
    for (const suffix of ['dev', 'devpts', 'fuse']) {
      try {
        fs.rmdirSync(path.join(LIBVIRT_LXC_RUN, `${h.domain}.${suffix}`));
      } catch {
        /* absent, or still in use */
      }
    }
    fs.rmSync(path.join(LIBVIRT_LXC_LOG, `${h.domain}.log`), { force: true });
  }

  /** berth-lxc-init's message when set-up failed (in stderr.log when detached; else on the caller's stderr). */
  private setupError(request: CreateRequest): string {
    if (request.stdio.kind === 'fds') return 'berth-lxc-init exited; its message is on the container\'s stderr';
    try {
      const text = fs.readFileSync(logPaths(request.stateDir).stderr, 'utf8').trim();
      return text.split('\n').filter((l) => l.startsWith('berth-lxc-init:')).pop() ?? (text || 'berth-lxc-init exited');
    } catch {
      return 'berth-lxc-init exited';
    }
  }

  private removeFiles(dir: string): void {
    for (const f of ['start.fifo', 'status', 'domain.xml']) fs.rmSync(path.join(dir, f), { force: true });
  }

  private handle(ref: ContainerRef): LibvirtHandle | undefined {
    const h = ref.handle as Partial<LibvirtHandle>;
    return h.uuid && h.domain && h.initPid ? (h as LibvirtHandle) : undefined;
  }

  private requireHandle(ref: ContainerRef): LibvirtHandle {
    const h = this.handle(ref);
    if (!h) throw new BerthError('STATE_CORRUPT', `container "${ref.id}": the libvirt handle is incomplete`);
    return h;
  }

  /** A half-created record: the domain XML written by create names the uuid. */
  private handleFromFiles(ref: ContainerRef): Pick<LibvirtHandle, 'domain' | 'uuid'> | undefined {
    try {
      const xml = fs.readFileSync(path.join(ref.stateDir, 'domain.xml'), 'utf8');
      const uuid = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(xml)?.[1];
      return uuid ? { domain: domainName(ref.id), uuid } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The libvirt domain name of a container (libvirt also makes it the default hostname). */
export function domainName(id: string): string {
  return `berth-${id}`;
}

function signalName(n: number): NodeJS.Signals | undefined {
  const table = os.constants.signals as Record<string, number>;
  return Object.keys(table).find((k) => table[k] === n) as NodeJS.Signals | undefined;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}
