import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { injectable } from 'inversify';
import {
  BaseDriver,
  BerthError,
  copyLogs,
  isSameProcess,
  logPaths,
  pollUntil,
  processStartTime,
  type ContainerRef,
  type CreateRequest,
  type DriverHandle,
  type DriverState,
  type ExecRequest,
  type ExecutionDriver,
  type ExitResult,
  type Feature,
  type Fingerprint,
  type LogsRequest,
} from '../../core';
import { chrootArguments } from './chroot-arguments';

const SUPERVISOR = path.join(__dirname, 'chroot-supervisor.js');

/** The host's chroot, by absolute path: the container's own PATH must not decide which binary runs. */
function hostChroot(): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const candidate = path.join(dir, 'chroot');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

interface ChrootHandle {
  supervisorPid: number;
  supervisorStart?: number;
}

/**
 * An unisolated driver: `chroot` into the rootfs as the spec's user, nothing else. No namespaces,
 * no cgroups, no capability changes: the process can see and signal every host process. It exists
 * as the worked example of a plugin and for hosts where isolation is not wanted (Nomad's raw_exec).
 */
@injectable()
export class ChrootDriver extends BaseDriver implements ExecutionDriver {
  readonly name = 'chroot';
  readonly description = 'chroot into the rootfs; isolates NOTHING (no namespaces, no limits)';
  readonly features: ReadonlySet<Feature> = new Set<Feature>([
    'process.args',
    'process.env',
    'process.cwd',
    'process.user',
    'process.user.additionalGids',
    'op.exec',
    'op.logs',
    'op.killAll',
    'op.recover',
  ]);

  async fingerprint(): Promise<Fingerprint> {
    const binary = hostChroot();
    const version = binary ? spawnSync(binary, ['--version'], { encoding: 'utf8' }) : undefined;
    if (!version || version.error || version.status !== 0) {
      return { available: false, reason: 'coreutils chroot not found', installHint: 'apt-get install coreutils', health: 'undetected', attributes: {} };
    }
    if (process.getuid?.() !== 0) {
      return { available: false, reason: 'chroot needs root', health: 'unhealthy', attributes: {} };
    }
    return {
      available: true,
      version: version.stdout.split('\n')[0]?.replace(/^chroot \(GNU coreutils\) /, ''),
      health: 'healthy',
      attributes: { isolation: 'none: shares every namespace, cgroup and capability of the host' },
    };
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const dir = request.stateDir;
    const fifo = path.join(dir, 'start.fifo');
    const mk = spawnSync('mkfifo', ['-m', '600', fifo]);
    if (mk.status !== 0) throw new BerthError('BACKEND_FAILED', `mkfifo ${fifo} failed: ${mk.stderr}`);
    const job = path.join(dir, 'job.json');
    fs.writeFileSync(job, JSON.stringify({ argv: chrootArguments(request.spec, this.binary()), env: request.spec.process?.env ?? [], stateDir: dir }));
    const stdio = this.openStdio(request);
    const stdioOption: StdioOptions = [stdio.stdin, stdio.stdout, stdio.stderr];
    const child = spawn(process.execPath, [SUPERVISOR, job], { detached: true, stdio: stdioOption });
    stdio.close();
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new BerthError('BACKEND_FAILED', 'could not start the chroot supervisor');
    try {
      await pollUntil(() => (fs.existsSync(path.join(dir, 'ready')) ? true : undefined), 5000, 'the chroot supervisor');
    } catch (err) {
      this.killQuietly(pid, 'SIGKILL');
      throw new BerthError('BACKEND_FAILED', (err as Error).message);
    }
    const handle: ChrootHandle = { supervisorPid: pid, supervisorStart: processStartTime(pid) };
    return { ...handle };
  }

  async start(ref: ContainerRef): Promise<void> {
    const fifo = path.join(ref.stateDir, 'start.fifo');
    const fd = await pollUntil(() => {
      try {
        return fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENXIO') return undefined;
        throw err;
      }
    }, 5000, 'the supervisor to listen');
    fs.writeSync(fd, 'start');
    fs.closeSync(fd);
    await pollUntil(() => (this.readInitPid(ref) !== undefined || this.readExit(ref) ? true : undefined), 5000, 'the container to start');
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    const exit = this.readExit(ref);
    if (exit) return { status: 'stopped', exitCode: exit.exitCode };
    const h = ref.handle as unknown as ChrootHandle;
    if (!isSameProcess(h.supervisorPid, h.supervisorStart)) {
      // The supervisor died without recording an exit (killed before start, or SIGKILLed).
      return { status: 'stopped', exitCode: 255 };
    }
    const pid = this.readInitPid(ref);
    return pid === undefined ? { status: 'created', pid: h.supervisorPid } : { status: 'running', pid };
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    const s = await pollUntil(async () => {
      const st = await this.state(ref);
      return st.status === 'stopped' ? st : undefined;
    }, 365 * 24 * 3600 * 1000, 'exit', 10);
    const exit = this.readExit(ref);
    return { exitCode: s.exitCode ?? 255, ...(exit?.signal ? { signal: exit.signal } : {}) };
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    const s = await this.state(ref);
    if (s.status === 'stopped' || s.pid === undefined) return;
    // The init leads its own process group (the supervisor starts it with setsid): `all` signals the group.
    if (all && s.status === 'running') this.killQuietly(-s.pid, signal);
    else this.killQuietly(s.pid, signal);
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const h = { ...this.supervisorFromFiles(ref), ...(ref.handle as Partial<ChrootHandle>) };
    const pid = this.readInitPid(ref);
    if (force && pid !== undefined) this.killQuietly(-pid, 'SIGKILL');
    // A supervisor still alive here either waits on start.fifo (a created container, which OCI delete
    // ends) or runs a live init (only reached with force): it goes in both cases.
    if (h.supervisorPid && isSameProcess(h.supervisorPid, h.supervisorStart)) this.killQuietly(h.supervisorPid, 'SIGKILL');
    if (h.supervisorPid) {
      await pollUntil(() => (isSameProcess(h.supervisorPid!, h.supervisorStart) ? undefined : true), 5000, 'the supervisor to exit').catch(() => undefined);
    }
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    const proc = ref.spec.process!;
    const spec = {
      ...ref.spec,
      process: { ...proc, args: request.args, cwd: request.cwd ?? proc.cwd, user: request.user ?? proc.user, env: request.env ?? proc.env },
    };
    const argv = chrootArguments(spec, this.binary());
    const env = Object.fromEntries((spec.process.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: [request.stdio.stdin ?? 'ignore', request.stdio.stdout, request.stdio.stderr] });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(signal ? { exitCode: 128 + (require('node:os').constants.signals[signal] as number), signal } : { exitCode: code ?? 255 }));
    });
  }

  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    await copyLogs(logPaths(ref.stateDir), request, request.follow, async () => (await this.state(ref)).status === 'stopped');
  }

  private binary(): string {
    const binary = hostChroot();
    if (!binary) throw new BerthError('DRIVER_UNAVAILABLE', 'coreutils chroot not found');
    return binary;
  }

  private openStdio(request: CreateRequest) {
    if (request.stdio.kind === 'fds') {
      const s = request.stdio;
      return { stdin: s.stdin ?? ('ignore' as const), stdout: s.stdout, stderr: s.stderr, close: () => {} };
    }
    const files = logPaths(request.stateDir);
    const stdout = fs.openSync(files.stdout, 'a');
    const stderr = fs.openSync(files.stderr, 'a');
    return { stdin: 'ignore' as const, stdout, stderr, close: () => [stdout, stderr].forEach((fd) => fs.closeSync(fd)) };
  }

  /** The supervisor as its `ready` file names it: the handle's stand-in for a half-created or corrupt record. */
  private supervisorFromFiles(ref: ContainerRef): Partial<ChrootHandle> {
    try {
      const pid = Number(fs.readFileSync(path.join(ref.stateDir, 'ready'), 'utf8'));
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(ref.stateDir) ? { supervisorPid: pid } : {};
    } catch {
      return {};
    }
  }

  private readInitPid(ref: ContainerRef): number | undefined {
    try {
      return Number(fs.readFileSync(path.join(ref.stateDir, 'init.pid'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private readExit(ref: ContainerRef): { exitCode: number; signal?: NodeJS.Signals } | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(ref.stateDir, 'exit.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private killQuietly(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
