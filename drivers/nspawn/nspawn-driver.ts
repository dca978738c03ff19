import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { inject, injectable, optional } from 'inversify';
import {
  assertSpecSupported,
  attachmentFromJson,
  attachmentToJson,
  BaseDriver,
  createNamedNetns,
  createNetworkAttacher,
  deleteNamedNetns,
  NetworkAttacher,
  netnsPath,
  networkRequestFromSpec,
  BerthError,
  copyLogs,
  isSameProcess,
  logPaths,
  OperationNotSupportedError,
  pollUntil,
  processStartTime,
  signalName,
  signalNumber,
  SpecInvalidError,
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
  type JsonValue,
  OCI_VERSION,
  type OciState,
  type OciStatus,
  type LogsRequest,
  type Resources,
  watchUntil,
} from '../../core';
import { hasCreateHooks, HOOKS_GO, INIT_IN_CONTAINER, initArguments, machineName, NSPAWN_ENVIRONMENT, nspawnArguments } from './nspawn-arguments';
import { runHooks, runHooksWarning } from './nspawn-hooks';
import { isUserCommand, leaderPid } from './nspawn-leader';
import { assertNspawnCanHonour } from './nspawn-spec-check';
import { cgroupExists, cgroupManager, createCgroup, hybridUnifiedDir, removeTree, cgroupVersion, killAllExcept, plannedHandle, removeIfEmpty, type CgroupHandle } from './nspawn-cgroup';
import { awaitSupervisorGone, joinThenExecArguments, launchSupervisor, readNumberFile, release, STATE_FILES, SUPERVISOR_BINARY, type LaunchedSupervisor } from './nspawn-supervisor';
import { assertRootfsUsable, mountOverlay, needsOverlay, removeOverlay, rootfsPlan } from './nspawn-rootfs';
import { readyLeader } from './nspawn-leader';
import { nspawnFingerprint } from './nspawn-fingerprint';
import { RawNspawnBaseline } from './nspawn-raw-baseline';

const resolvedBinaries = new Map<string, string>();
const foundHelpers = new Map<string, string>();

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** What a later process needs to find the container again (stored in the record). */
interface NspawnHandle {
  machine: string;
  supervisorPid: number;
  supervisorStart?: number;
  cgroup: CgroupHandle;
  /** nspawn's own cgroup2 directory on a hybrid host (see hybridUnifiedDir). */
  unified?: string;
  overlay: boolean;
  /** Bridge networking: the named namespace (/run/netns/NAME) and the attacher's record. */
  netns?: string;
  network?: JsonValue;
}

const OVERLAY_DIR = 'overlay';
const SUPERVISOR_PID_FILE = 'supervisor.pid';
const PROPAGATE_DIR = '/run/systemd/nspawn/propagate';
const INIT_BINARY = 'berth-nspawn-init';
/** How often start looks for the leader's exec in /proc when no STATE/running came (ms). */
const RUNNING_POLL_MS = 20;
/** How often wait checks whether the supervisor died without writing STATE/exit (ms). */
const EXIT_POLL_MS = 50;

/**
 * systemd-nspawn as a berth driver, on hosts with or without systemd as PID 1. nspawn runs with
 * --register=no --keep-unit under a small static supervisor, inside a cgroup berth manages (limits,
 * pause, stats, kill --all); the process settings nspawn cannot express exactly are applied by the
 * static berth-nspawn-init helper that nspawn runs as the payload. See docs/drivers/nspawn.md.
 */
@injectable()
export class NspawnDriver extends BaseDriver implements ExecutionDriver {
  readonly name = 'nspawn';
  readonly description = 'systemd-nspawn containers (no machined needed; berth-managed cgroup)';
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
    'process.oomScoreAdj',
    'root.readonly',
    'hostname',
    'namespace.pid',
    'namespace.network',
    'namespace.mount',
    'namespace.ipc',
    'namespace.uts',
    'namespace.cgroup',
    'namespace.user',
    'userns.mappings',
    'network.bridge',
    'network.publish',
    'hooks.prestart',
    'hooks.createRuntime',
    'hooks.poststart',
    'hooks.poststop',
    'mount.bind',
    'mount.tmpfs',
    'mount.proc',
    'mount.sysfs',
    'mount.devpts',
    'mount.mqueue',
    'mount.cgroup',
    'mount.readonly',
    'linux.maskedPaths',
    'linux.sysctl',
    'linux.cgroupsPath',
    'linux.readonlyPaths',
    'resources.memory.limit',
    'resources.memory.reservation',
    'resources.cpu.shares',
    'resources.cpu.quota',
    'resources.cpu.cpus',
    'resources.cpu.mems',
    'resources.pids',
    'resources.devices',
    'op.exec',
    'op.pause',
    'op.stats',
    'op.update',
    'op.logs',
    'op.recover',
    'op.killAll',
  ]);

  private fallbackAttacher?: NetworkAttacher;

  constructor(@inject(NetworkAttacher) @optional() private readonly injectedAttacher?: NetworkAttacher) {
    super();
  }

  /** `berth bench`'s same-run reference: plain systemd-nspawn on the same rootfs. */
  readonly rawBaseline = new RawNspawnBaseline();

  async fingerprint(): Promise<Fingerprint> {
    const init = this.findHelper({}, INIT_BINARY);
    return nspawnFingerprint(this.nspawnBinary({}), init && this.findHelper({}, SUPERVISOR_BINARY) ? init : undefined);
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const { spec, stateDir, options } = request;
    assertSpecSupported(spec, this); // the core checked already; a direct API caller gets the same refusal
    assertNspawnCanHonour(spec, { cgroupVersion: cgroupVersion() });
    (spec.mounts ?? []).forEach((m, i) => {
      if (m.source?.startsWith('/') && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')) && !fs.existsSync(m.source)) {
        throw new SpecInvalidError([{ path: `mounts[${i}].source`, message: `${m.source} does not exist (driver "nspawn")` }]);
      }
    });
    const initPath = this.findHelper(options, INIT_BINARY);
    const supervisorPath = this.findHelper(options, SUPERVISOR_BINARY);
    if (!initPath || !supervisorPath) throw new BerthError('DRIVER_UNAVAILABLE', `nspawn: ${initPath ? SUPERVISOR_BINARY : INIT_BINARY} is not built (npm run build; needs gcc and libc6-dev)`);
    const plan = rootfsPlan(spec);
    assertRootfsUsable(spec, plan);

    const machine = this.machine(request);
    const relPath = this.cgroupPath(options, machine, spec);
    let cgroup: CgroupHandle = plannedHandle(relPath);
    const unified = hybridUnifiedDir(relPath);
    const overlay = needsOverlay(plan);
    const opened: number[] = [];
    const network = networkRequestFromSpec(spec);
    const netns = network.mode === 'bridge' ? machine : undefined;
    cgroupManager().validate(spec.linux?.resources); // refused values: before anything is made
    let supervisor: LaunchedSupervisor | undefined;
    try {
      const directory = overlay ? await mountOverlay(spec, plan, path.join(stateDir, OVERLAY_DIR)) : spec.root!.path;
      // Bridge networking: a named namespace attached through CNI before anything runs in it.
      let attachment: JsonValue | undefined;
      if (netns) {
        const nsPath = await createNamedNetns(netns);
        attachment = attachmentToJson(await this.attacher().attach(request.id, nsPath, network));
      }
      const argv = nspawnArguments({
        spec,
        machine,
        directory,
        initPath,
        hostHostname: os.hostname(),
        nspawnBinary: this.resolvedNspawn(options),
        ...(netns ? { networkNamespacePath: netnsPath(netns) } : {}),
        ...(hasCreateHooks(spec) ? { controlDir: this.controlDir(stateDir) } : {}),
      });
      if (hasCreateHooks(spec)) fs.mkdirSync(this.controlDir(stateDir), { recursive: true });
      let stdio: { stdin: number | 'ignore'; stdout: number; stderr: number };
      if (request.stdio.kind === 'fds') {
        stdio = { stdin: request.stdio.stdin ?? 'ignore', stdout: request.stdio.stdout, stderr: request.stdio.stderr };
      } else {
        const files = logPaths(stateDir);
        opened.push(fs.openSync(files.stdout, 'a'), fs.openSync(files.stderr, 'a'));
        stdio = { stdin: 'ignore', stdout: opened[0]!, stderr: opened[1]! };
      }
      const procsFiles = [...cgroupManager().procsFiles(cgroup), ...(unified ? [path.join(unified, 'cgroup.procs')] : [])];
      // The supervisor starts first and waits; the cgroup is made meanwhile (its start-up overlaps
      // that work), then it joins. It records its pid in STATE/supervisor.pid itself.
      supervisor = launchSupervisor({ binary: supervisorPath, stateDir, procsFiles, argv, env: this.nspawnEnvironment(options), stdio });
      const pid = supervisor.pid;
      const planned = cgroup;
      cgroup = await createCgroup(relPath, spec.linux?.resources);
      if (JSON.stringify(cgroup.paths) !== JSON.stringify(planned.paths)) {
        throw new BerthError('BACKEND_FAILED', `nspawn: the cgroup was made at ${JSON.stringify(cgroup.paths)}, not at the planned ${JSON.stringify(planned.paths)}`);
      }
      if (unified) fs.mkdirSync(unified, { recursive: true });
      supervisor.join();
      const handle: NspawnHandle = {
        machine,
        supervisorPid: pid,
        cgroup,
        overlay,
        ...(unified ? { unified } : {}),
        ...(netns ? { netns, ...(attachment !== undefined ? { network: attachment } : {}) } : {}),
      };
      const start = processStartTime(pid);
      if (start !== undefined) handle.supervisorStart = start;
      return { ...handle, cgroup: { version: cgroup.version, paths: { ...cgroup.paths } } } as unknown as DriverHandle;
    } catch (err) {
      supervisor?.abort(); // it exits without joining anything
      const partial = { cgroup, ...(supervisor ? { supervisorPid: supervisor.pid } : {}), ...(unified ? { unified } : {}), ...(netns ? { netns } : {}) };
      await this.cleanup({ id: request.id, spec, stateDir, options, handle: partial as unknown as DriverHandle }, machine, cgroup).catch(() => undefined);
      throw err;
    } finally {
      for (const fd of opened) fs.closeSync(fd);
    }
  }

  async start(ref: ContainerRef): Promise<void> {
    const h = this.handle(ref);
    const hooks = hasCreateHooks(ref.spec);
    // One watch of the state folder (inotify) for the whole start, in two steps:
    //  1. release: STATE/go, then SIGCONT once the supervisor has stopped itself (it writes
    //     supervisor.pid just before); one that saw `go` first goes on alone and announces itself
    //     with nspawn.pid. A supervisor gone without starting nspawn is a failure (see release).
    //     Both wake this through inotify; re-checked every 5 ms meanwhile, in case.
    //  2. running: the supervisor's STATE/running (the helper exec'd the user's command and so
    //     closed the readiness pipe) or STATE/exit. The leader's exec is also looked for in /proc
    //     every 20 ms, for a helper or nspawn that does not pass the pipe on.
    let released = false;
    const running = this.runningCheck(ref.stateDir);
    await watchUntil(ref.stateDir, () => {
      if (!released) {
        if (!release(ref.stateDir, h.supervisorPid, h.supervisorStart)) return undefined;
        released = true;
        if (hooks) return true; // the helper waits for the hooks: step 2 comes after them
      }
      return running();
    }, { timeoutMs: 30000, what: 'the nspawn container to start', pollMs: () => (released ? RUNNING_POLL_MS : 5) });
    if (hooks) {
      await this.runCreateHooks(ref);
      await watchUntil(ref.stateDir, running, { timeoutMs: 30000, what: 'the nspawn container to start', pollMs: RUNNING_POLL_MS });
    }
    const poststart = ref.spec.hooks?.poststart ?? [];
    if (poststart.length > 0) {
      const s = await this.state(ref);
      await runHooksWarning(poststart, this.ociState(ref, s.status, s.pid));
    }
  }

  /**
   * A check (for watchUntil) true once the user's command runs or the container ended: STATE/running
   * or STATE/exit; the leader's exe in /proc at most every RUNNING_POLL_MS (the fallback).
   */
  private runningCheck(stateDir: string): () => true | undefined {
    let nspawnPid: number | undefined;
    let leader: number | undefined;
    let lastProc = Date.now(); // the fallback's first look after RUNNING_POLL_MS: STATE/running usually comes first
    return () => {
      if (readNumberFile(stateDir, STATE_FILES.running) !== undefined) return true;
      if (readNumberFile(stateDir, STATE_FILES.exit) !== undefined) return true;
      const now = Date.now();
      if (now - lastProc < RUNNING_POLL_MS) return undefined;
      lastProc = now;
      nspawnPid ??= readNumberFile(stateDir, STATE_FILES.nspawnPid);
      if (nspawnPid === undefined) return undefined;
      leader ??= leaderPid(nspawnPid);
      return leader !== undefined && isUserCommand(leader) ? true : undefined;
    };
  }

  /**
   * prestart and createRuntime hooks: nspawn has made the namespaces and runs the helper as the
   * container's PID 1, which waits for `go` before anything of the user's runs. A failing hook
   * ends the container and fails start.
   */
  private async runCreateHooks(ref: ContainerRef): Promise<void> {
    const leader = await pollUntil(() => {
      if (readNumberFile(ref.stateDir, STATE_FILES.exit) !== undefined) return -1;
      const nspawnPid = readNumberFile(ref.stateDir, STATE_FILES.nspawnPid);
      const pid = nspawnPid === undefined ? undefined : leaderPid(nspawnPid);
      if (pid === undefined) return undefined;
      try {
        return fs.readlinkSync(`/proc/${pid}/exe`) === INIT_IN_CONTAINER ? pid : undefined;
      } catch {
        return undefined;
      }
    }, 30000, 'the container\'s namespaces', 1);
    if (leader < 0) return;
    const state = this.ociState(ref, 'created', leader);
    try {
      await runHooks(ref.spec.hooks?.prestart, state);
      await runHooks(ref.spec.hooks?.createRuntime, state);
    } catch (err) {
      await killAllExcept(this.handle(ref).cgroup, 'SIGKILL', new Set()).catch(() => undefined);
      throw err;
    }
    fs.writeFileSync(path.join(this.controlDir(ref.stateDir), HOOKS_GO), '');
  }

  private ociState(ref: ContainerRef, status: OciStatus, pid: number | undefined): OciState {
    return {
      ociVersion: OCI_VERSION,
      id: ref.id,
      status,
      ...(pid !== undefined && status !== 'stopped' ? { pid } : {}),
      bundle: ref.bundle,
      ...(ref.spec.annotations ? { annotations: ref.spec.annotations } : {}),
    };
  }

  private controlDir(stateDir: string): string {
    return path.join(stateDir, 'ctl');
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    const exit = this.readExit(ref);
    if (exit) return { status: 'stopped', exitCode: exit.exitCode };
    const h = this.handle(ref);
    if (!h.supervisorPid || !isSameProcess(h.supervisorPid, h.supervisorStart)) {
      return { status: 'stopped', exitCode: readNumberFile(ref.stateDir, STATE_FILES.exit) ?? 255 };
    }
    const nspawnPid = readNumberFile(ref.stateDir, STATE_FILES.nspawnPid);
    if (nspawnPid === undefined) return { status: 'created', pid: h.supervisorPid };
    const pid = readyLeader(nspawnPid) ?? nspawnPid;
    const frozen = await cgroupManager().isFrozen(h.cgroup);
    return { status: frozen ? 'paused' : 'running', pid };
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    // The exit file wakes this at once (inotify); at most every 50 ms, whether the supervisor died without writing it.
    const h = this.handle(ref);
    let lastAlive = 0;
    await watchUntil(ref.stateDir, () => {
      if (this.readExit(ref)) return true;
      const now = Date.now();
      if (now - lastAlive < EXIT_POLL_MS) return undefined;
      lastAlive = now;
      return !h.supervisorPid || !isSameProcess(h.supervisorPid, h.supervisorStart) ? true : undefined;
    }, { timeoutMs: 2 ** 31 - 1, what: 'the container to exit', pollMs: EXIT_POLL_MS });
    const exit = this.readExit(ref);
    if (!exit) return { exitCode: 255 };
    return { exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}) };
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    const h = this.handle(ref);
    const s = await this.state(ref);
    if (s.status === 'stopped') return;
    if (s.status === 'created') {
      // Nothing of the user's runs yet: the container ends here, with the signal as its status.
      this.signal(h.supervisorPid, 'SIGKILL');
      fs.writeFileSync(path.join(ref.stateDir, STATE_FILES.exit), String(128 + signalNumber(signal)));
      return;
    }
    const nspawnPid = readNumberFile(ref.stateDir, STATE_FILES.nspawnPid)!;
    if (signal === 'SIGKILL') fs.writeFileSync(path.join(ref.stateDir, STATE_FILES.killed), 'SIGKILL');
    if (all) {
      // The supervisor and nspawn itself share the cgroup: they stay, to report the exit.
      await killAllExcept(h.cgroup, signal, new Set([nspawnPid, h.supervisorPid]));
    } else {
      const leader = await pollUntil(() => readyLeader(nspawnPid) ?? (this.readExit(ref) ? -1 : undefined), 5000, 'the container leader');
      if (leader > 0) this.signal(leader, signal);
    }
    if (s.status === 'paused' && signal === 'SIGKILL') await cgroupManager().thaw(h.cgroup);
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const h = ref.handle as Partial<NspawnHandle>;
    const machine = h.machine ?? this.machine(ref);
    const cgroup = h.cgroup ?? plannedHandle(this.cgroupPath(ref.options, machine, ref.spec));
    // Never started (created, or half-created): the waiting supervisor is all there is; it goes.
    const supervisor = h.supervisorPid ?? readNumberFile(ref.stateDir, SUPERVISOR_PID_FILE);
    if (supervisor && readNumberFile(ref.stateDir, STATE_FILES.nspawnPid) === undefined && isSameProcess(supervisor, h.supervisorStart)) {
      this.signal(supervisor, 'SIGKILL');
    }
    if (force && cgroupExists(cgroup)) await killAllExcept(cgroup, 'SIGKILL', new Set());
    await this.cleanup(ref, machine, cgroup);
    await runHooksWarning(ref.spec.hooks?.poststop, this.ociState(ref, 'stopped', undefined));
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    if (request.tty) throw new OperationNotSupportedError(this.name, 'exec --tty', 'no terminal support');
    const nspawnPid = readNumberFile(ref.stateDir, STATE_FILES.nspawnPid);
    if (nspawnPid === undefined) throw new BerthError('CONTAINER_STATE', `container "${ref.id}" has not started`);
    const leader = await pollUntil(() => readyLeader(nspawnPid), 10000, 'the container leader');
    const proc = ref.spec.process!;
    const execProc = {
      ...proc,
      args: request.args,
      env: request.env ?? proc.env,
      cwd: request.cwd ?? proc.cwd,
      user: request.user ? { ...request.user, ...(proc.user.umask !== undefined ? { umask: proc.user.umask } : {}) } : proc.user,
    };
    const h = this.handle(ref);
    const procs = [...cgroupManager().procsFiles(h.cgroup), ...(h.unified ? [path.join(h.unified, 'cgroup.procs')] : [])];
    const userns = (ref.spec.linux?.namespaces ?? []).some((n) => n.type === 'user') ? ['--user'] : [];
    const nsenter = ['nsenter', `--target=${leader}`, ...userns, '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd'];
    const supervisor = this.findHelper(ref.options, SUPERVISOR_BINARY);
    if (!supervisor) throw new BerthError('DRIVER_UNAVAILABLE', `nspawn: ${SUPERVISOR_BINARY} is not built (npm run build)`);
    // The supervisor program in its join mode: joins berth's cgroup, then execs nsenter (no shell).
    const argv = joinThenExecArguments(procs, [...nsenter, INIT_IN_CONTAINER, ...initArguments(execProc, { init: false, spec: ref.spec })]);
    const child = spawn(supervisor, argv, {
      env: { PATH: NSPAWN_ENVIRONMENT.PATH },
      stdio: [request.stdio.stdin ?? 'ignore', request.stdio.stdout, request.stdio.stderr],
    });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        resolve(signal ? { exitCode: 128 + signalNumber(signal), signal } : { exitCode: code ?? 255 });
      });
    });
  }

  override async pause(ref: ContainerRef): Promise<void> {
    await cgroupManager().freeze(this.handle(ref).cgroup);
  }

  override async resume(ref: ContainerRef): Promise<void> {
    await cgroupManager().thaw(this.handle(ref).cgroup);
  }

  override async stats(ref: ContainerRef): Promise<ContainerStats> {
    return cgroupManager().stats(this.handle(ref).cgroup);
  }

  override async update(ref: ContainerRef, resources: Resources): Promise<void> {
    if ((resources.devices ?? []).length > 0) {
      throw new OperationNotSupportedError(this.name, 'update of linux.resources.devices', 'device rules are set at create only');
    }
    await cgroupManager().update(this.handle(ref).cgroup, resources);
  }

  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    await copyLogs(logPaths(ref.stateDir), request, request.follow, async () => (await this.state(ref)).status === 'stopped');
  }

  override async recover(ref: ContainerRef): Promise<DriverHandle> {
    return ref.handle;
  }

  /** Wait for the supervisor, then remove the cgroup, the overlay and nspawn's propagation folder. */
  private async cleanup(ref: { id: string; spec: ContainerRef['spec']; stateDir: string; handle?: DriverHandle; options?: Readonly<Record<string, JsonValue>> }, machine: string, cgroup: CgroupHandle): Promise<void> {
    const h = (ref.handle ?? {}) as Partial<NspawnHandle>;
    const supervisor = h.supervisorPid ?? readNumberFile(ref.stateDir, SUPERVISOR_PID_FILE);
    if (supervisor) await awaitSupervisorGone(supervisor, h.supervisorStart, 10000).catch(() => undefined);
    // Frees, kills what is left, waits until empty and removes every directory (idempotent).
    if (!removeIfEmpty(cgroup)) await cgroupManager().destroy(cgroup);
    // Every process is gone now (the v1 hierarchies were emptied): nspawn's cgroup2 directories go too.
    const unified = h.unified ?? hybridUnifiedDir(this.cgroupPath(ref.options ?? {}, machine, ref.spec));
    if (unified && !removeTree(unified)) throw new BerthError('BACKEND_FAILED', `nspawn: could not remove ${unified}`);
    await this.detachNetwork(ref, h, machine);
    await removeOverlay(path.join(ref.stateDir, OVERLAY_DIR));
    try {
      fs.rmdirSync(path.join(PROPAGATE_DIR, machine));
    } catch {
      /* nspawn removed it, or never made it */
    }
  }

  /** CNI DEL (with the record, or by id when there is none), then the named namespace goes. */
  private async detachNetwork(ref: { id: string; spec: ContainerRef['spec'] }, h: Partial<NspawnHandle>, machine: string): Promise<void> {
    let request;
    try {
      request = networkRequestFromSpec(ref.spec);
    } catch {
      request = undefined;
    }
    if (!h.netns && request?.mode !== 'bridge') return;
    const name = h.netns ?? machine;
    const nsPath = netnsPath(name);
    await this.attacher().detach(ref.id, fs.existsSync(nsPath) ? nsPath : undefined, attachmentFromJson(h.network), request);
    await deleteNamedNetns(name);
  }

  private attacher(): NetworkAttacher {
    if (this.injectedAttacher) return this.injectedAttacher;
    this.fallbackAttacher ??= createNetworkAttacher().attacher;
    return this.fallbackAttacher;
  }

  private readExit(ref: ContainerRef): { exitCode: number; signal?: NodeJS.Signals } | undefined {
    const code = readNumberFile(ref.stateDir, STATE_FILES.exit);
    if (code === undefined) return undefined;
    // nspawn exits 1 when the payload died of a signal; berth knows it sent SIGKILL.
    if (code === 1 && fs.existsSync(path.join(ref.stateDir, STATE_FILES.killed))) return { exitCode: 137, signal: 'SIGKILL' };
    if (code > 128) {
      const signal = signalName(code - 128);
      return signal ? { exitCode: code, signal } : { exitCode: code };
    }
    return { exitCode: code };
  }

  private handle(ref: ContainerRef): NspawnHandle {
    return ref.handle as unknown as NspawnHandle;
  }

  private machine(ctx: { id: string; stateDir: string }): string {
    return machineName(ctx.id, crypto.createHash('sha256').update(`${ctx.stateDir}\0${ctx.id}`).digest('hex').slice(0, 10));
  }

  /** nspawn's environment; drivers.json option `logLevel` (e.g. "err") shows nspawn's own messages, in the container's stderr. */
  private nspawnEnvironment(options: Readonly<Record<string, JsonValue>>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...NSPAWN_ENVIRONMENT };
    if (typeof options.logLevel === 'string' && /^[a-z]+$/.test(options.logLevel)) env.SYSTEMD_LOG_LEVEL = options.logLevel;
    return env;
  }

  /** `<cgroupParent>/<machine>` in every hierarchy (drivers.json option cgroupParent, default "berth"). */
  private cgroupPath(options: Readonly<Record<string, JsonValue>>, machine: string, spec: ContainerRef['spec']): string {
    // linux.cgroupsPath (a path below every hierarchy's root, as runc's cgroupfs driver takes it).
    if (spec.linux?.cgroupsPath) return spec.linux.cgroupsPath;
    return `${typeof options.cgroupParent === 'string' ? options.cgroupParent : 'berth'}/${machine}`;
  }

  private nspawnBinary(options: Readonly<Record<string, JsonValue>>): string {
    return typeof options.nspawn === 'string' ? options.nspawn : 'systemd-nspawn';
  }

  /** nspawnBinary as an absolute path found once in nspawn's PATH (no failed execs per container), else as given. */
  private resolvedNspawn(options: Readonly<Record<string, JsonValue>>): string {
    const name = this.nspawnBinary(options);
    if (name.includes('/')) return name;
    let found = resolvedBinaries.get(name);
    if (found === undefined) {
      found = NSPAWN_ENVIRONMENT.PATH!.split(':').map((d) => path.join(d, name)).find((p) => isExecutable(p)) ?? name;
      resolvedBinaries.set(name, found);
    }
    return found;
  }

  /**
   * A built native helper: the drivers.json option (`initHelper`, `supervisorHelper`), next to this
   * module in dist/, or dist/ seen from the sources (tests).
   */
  private findHelper(options: Readonly<Record<string, JsonValue>>, name: typeof INIT_BINARY | typeof SUPERVISOR_BINARY): string | undefined {
    const option = options[name === INIT_BINARY ? 'initHelper' : 'supervisorHelper'];
    const key = `${name}\0${typeof option === 'string' ? option : ''}`;
    const known = foundHelpers.get(key);
    if (known !== undefined) return known;
    const candidates = [
      ...(typeof option === 'string' ? [option] : []),
      path.join(__dirname, name),
      path.resolve(__dirname, '../../dist/drivers/nspawn', name),
    ];
    const found = candidates.find((p) => fs.existsSync(p));
    if (found) foundHelpers.set(key, found); // found once per process; a missing one is looked for again
    return found;
  }

  private signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
