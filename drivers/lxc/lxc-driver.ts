import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { inject, injectable, optional } from 'inversify';
import {
  BaseDriver,
  BackendCommandError,
  BerthError,
  OperationNotSupportedError,
  copyLogs,
  isAlive,
  isSameProcess,
  logPaths,
  pollUntil,
  processStartTime,
  processState,
  watchUntil,
  signalName,
  signalNumber,
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
  type LogsRequest,
  type Resources,
  type RawBaseline,
  type OciState,
  OCI_VERSION,
  NetworkAttacher,
  attachmentFromJson,
  attachmentToJson,
  createNetworkAttacher,
  networkRequestFromSpec,
  type Spec,
} from '../../core';
import { buildSpec } from '../../core/spec/spec-builder';
import {
  LxcCommandError,
  LxcConfigError,
  LxcTools,
  cgroupAssignments,
  cgroupDirsAt,
  cgroupPids,
  containerCgroupDirs,
  detectCgroupVersion,
  lastLxcMessage,
  processCgroupDirs,
  processCgroupPaths,
  removeCgroupDirs,
  renderConfig,
  setCgroupFrozen,
  type CgroupVersion,
} from '../../vendor/lxc-ts-shim/src';
import { cgroupLimitsFor, lxcConfigFor, sysctlsFor, DRIVER_NAME } from './lxc-config';
import { prepareMountpoints } from './mountpoints';
import { LxcRefusalError } from './lxc-refusal-error';
import { readLxcStats } from './lxc-stats';
import { runHooks, type HookFailure } from './oci-hooks';
import { frozen, killQuietly, pollSoon, probePath, userProcess } from './lxc-processes';
import { ensureSeccompPolicyFile, seccompPolicyPath, seccompPolicyText } from './seccomp-policy-file';
import { appendState, readState, stateFile } from './lxc-state-files';

export const LxcDriverOptions = Symbol.for('berth.LxcDriverOptions');
export interface LxcDriverOptions {
  /** LXC's `-P` folder for berth's containers. */
  lxcpath?: string;
  /** Path of berth-lxc-helper; default: next to this module in dist/. */
  helper?: string;
}
export const DEFAULT_LXCPATH = '/var/lib/berth/lxc';
const HELPER_NAME = 'berth-lxc-helper';

/** Everything a later call (in any process) needs to find the container again. */
interface LxcHandle {
  name: string;
  lxcpath: string;
  cgroupVersion: CgroupVersion;
  supervisorPid: number;
  supervisorStart?: number;
  /** The bridge network attachment (berth's CNI attacher), when the spec asks for one. */
  network?: JsonValue;
  /** The cgroups LXC made for this container (payload and monitor), relative to each hierarchy's root. */
  cgroups?: string[];
}

const CREATE_TIMEOUT_MS = 30000;
/** The environment variable that carries the LXC config to berth-lxc-helper (see create). */
const CONFIG_ENV = 'BERTH_LXC_CONFIG';
/** Linux takes one environment string of up to 128 KiB; a bigger config goes through a file. */
const MAX_CONFIG_IN_ENV = 100 * 1024;

/**
 * LXC through its own tools: `lxc-execute` runs the spec's process under LXC's init, with the
 * caller's stdout and stderr kept apart and the process's exit code returned. berth-lxc-helper, a
 * small static binary, is both the supervisor (outliving the CLI: runs lxc-execute, records the exit
 * status) and the start-host hook that holds the set-up container between create and start.
 */
@injectable()
export class LxcDriver extends BaseDriver implements ExecutionDriver {
  readonly name = DRIVER_NAME;
  readonly description = 'LXC 5 containers through lxc-execute (LXC init as PID 1) and the lxc-* tools';
  readonly features: ReadonlySet<Feature> = new Set<Feature>([
    'process.args',
    'process.env',
    'process.cwd',
    'process.user',
    'process.user.additionalGids',
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
    'namespace.join',
    'mount.bind',
    'mount.tmpfs',
    'mount.proc',
    'mount.sysfs',
    'mount.devpts',
    'mount.mqueue',
    'mount.cgroup',
    'mount.readonly',
    'linux.maskedPaths',
    'linux.readonlyPaths',
    'linux.sysctl',
    'linux.seccomp',
    'resources.memory.limit',
    'resources.memory.reservation',
    'resources.memory.swap',
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
    'op.killAll',
    'op.recover',
    'network.bridge',
    'network.publish',
    'hooks.createRuntime',
    'hooks.prestart',
    'hooks.poststart',
    'hooks.poststop',
  ]);

  constructor(
    @inject(LxcDriverOptions) private readonly options: LxcDriverOptions = {},
    @inject(NetworkAttacher) @optional() private network?: NetworkAttacher,
  ) {
    super();
  }

  async fingerprint(): Promise<Fingerprint> {
    const installHint = 'apt-get install lxc';
    const version = spawnSync('lxc-execute', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      return { available: false, reason: 'the LXC tools (lxc-execute) are not installed', installHint, health: 'undetected', attributes: {} };
    }
    const attributes = { cgroupVersion: detectCgroupVersion(), isolation: 'namespaces, cgroups, capability bounding set' };
    if (process.getuid?.() !== 0) {
      return { available: false, reason: 'berth runs LXC containers as root only (no unprivileged containers)', version: version.stdout.trim(), health: 'unhealthy', attributes };
    }
    if (!this.findHelper({})) {
      return { available: false, reason: this.missingHelper({}), installHint: 'npm run build (needs gcc and libc6-dev)', version: version.stdout.trim(), health: 'unhealthy', attributes };
    }
    const lxcpath = this.lxcpath({});
    try {
      fs.mkdirSync(lxcpath, { recursive: true, mode: 0o711 });
      fs.accessSync(lxcpath, fs.constants.W_OK);
    } catch (err) {
      return { available: false, reason: `lxcpath ${lxcpath} is not usable: ${(err as Error).message}`, version: version.stdout.trim(), health: 'unhealthy', attributes };
    }
    return { available: true, version: version.stdout.trim(), health: 'healthy', attributes: { ...attributes, lxcpath } };
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const dir = request.stateDir;
    const lxcpath = this.lxcpath(request.options);
    const name = request.id;
    const helper = this.findHelper(request.options);
    if (!helper) throw new BerthError('DRIVER_UNAVAILABLE', `lxc: ${this.missingHelper(request.options)}`);
    const rootfs = request.spec.root!.path;
    const sysctls = sysctlsFor(request.spec).flatMap((s) => ['--sysctl', `${s.path}=${s.value}`]);
    const networkRequest = networkRequestFromSpec(request.spec);
    const { options, config, cgroupVersion } = this.render(request.spec, lxcpath, [helper, 'gate', dir, ...sysctls]);
    if (options.rootfs.readonly) prepareMountpoints(rootfs, options.mounts ?? []);
    const tools = new LxcTools({ lxcpath });
    // The supervisor hands lxc-execute its config and log as files in memory (LXC's log reaches
    // STATE/lxc.log only when LXC logs an error): making a new file costs ~0.7 ms on the project's
    // ext4 state folders, and these would be on the way from create to the container's start. A
    // config too big for one environment variable goes through STATE/lxc.conf.
    const configFile = stateFile(dir, 'config');
    const inMemory = Buffer.byteLength(config) <= MAX_CONFIG_IN_ENV;
    if (!inMemory) fs.writeFileSync(configFile, config);
    const argv = tools.executeArgv(name, inMemory ? undefined : configFile, request.spec.process!.args!, { level: 'ERROR', quiet: true });
    const stdio = openStdio(request);
    let pid: number | undefined;
    try {
      const child = spawn(helper, ['supervise', dir, '--lxc-log', ...(inMemory ? ['--lxc-config-env', CONFIG_ENV] : []), ...argv], {
        detached: true,
        stdio: stdio.options,
        cwd: '/',
        ...(inMemory ? { env: { ...process.env, [CONFIG_ENV]: config } } : {}),
      });
      child.on('error', () => undefined);
      child.unref();
      pid = child.pid;
    } finally {
      stdio.close();
    }
    if (pid === undefined) throw new BerthError('BACKEND_FAILED', `could not start the LXC supervisor (${helper})`);
    const handle: LxcHandle = { name, lxcpath, cgroupVersion, supervisorPid: pid, supervisorStart: processStartTime(pid) };
    try {
      // While LXC sets the container up: the config as a file for people, and the state file's inode
      // (rather than on the gate's way: any writer appends, creating it when missing).
      if (inMemory) fs.writeFileSync(configFile, config);
      fs.closeSync(fs.openSync(stateFile(dir, 'state'), 'a'));
      const initPid = await watchUntil(dir, () => {
        const record = readState(dir);
        if (record.init) return record.init.initPid;
        if (record.exitCode !== undefined || !isSameProcess(pid!, handle.supervisorStart)) throw this.setupError(dir, argv);
        return undefined;
      }, { timeoutMs: CREATE_TIMEOUT_MS, what: 'the LXC container to be set up', pollMs: 50 });
      // The container is set up and its process has not run: network, oom_score_adj, create-time hooks.
      const cgroups = lxcCgroups(initPid, pid);
      if (cgroups.length > 0) handle.cgroups = cgroups;
      if (networkRequest.mode === 'bridge') {
        handle.network = attachmentToJson(await this.attacher().attach(request.id, `/proc/${initPid}/ns/net`, networkRequest));
      }
      // Inherited by LXC's init and so by the process.
      if (request.spec.process?.oomScoreAdj !== undefined) fs.writeFileSync(`/proc/${initPid}/oom_score_adj`, String(request.spec.process.oomScoreAdj));
      for (const phase of ['createRuntime', 'prestart'] as const) {
        const failed = await runHooks(request.spec.hooks?.[phase], ociState(request, 'creating', initPid), true);
        if (failed.length > 0) throw new BerthError('BACKEND_FAILED', `hooks.${phase}[${failed[0]!.index}] failed: ${failed[0]!.message}`);
      }
    } catch (err) {
      await this.delete({ ...request, handle: { ...handle } }, true).catch(() => undefined);
      if (err instanceof BerthError) throw err;
      throw new BerthError('BACKEND_FAILED', `lxc: ${(err as Error).message}`, { cause: err });
    }
    return { ...handle };
  }

  /** The spec as an LXC config; `startHook` is berth's start gate (left out for the raw baseline). */
  private render(spec: Spec, lxcpath: string, startHook?: string[]) {
    const rootfsMount = path.join(lxcpath, '.rootfs-mount');
    if (!fs.existsSync(rootfsMount)) fs.mkdirSync(rootfsMount, { recursive: true, mode: 0o711 });
    const cgroupVersion = detectCgroupVersion();
    const rootfs = spec.root!.path;
    const options = lxcConfigFor(spec, {
      rootfsMount,
      startHook: startHook ?? [],
      probe: (p, where) => probePath(where === 'host' ? p : path.join(rootfs, p)),
      swapAccounting: cgroupVersion === 'v2' || fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    });
    if (!startHook) delete options.hooks;
    try {
      const policy = spec.linux?.seccomp ? seccompPolicyText(spec.linux.seccomp) : undefined;
      if (policy) options.seccompProfile = seccompPolicyPath(lxcpath, policy);
      const config = renderConfig(options, { cgroupVersion });
      // Files only once everything translated: a refused spec leaves nothing.
      if (policy) ensureSeccompPolicyFile(lxcpath, policy);
      return { options, cgroupVersion, config };
    } catch (err) {
      if (err instanceof LxcConfigError) throw new LxcRefusalError(err.key, err.message.slice(err.key.length + 2));
      throw err;
    }
  }

  /**
   * The bench's same-run reference: `lxc-execute` with the config this driver renders for the same
   * spec (the same isolation), minus berth's start gate, in a private lxcpath.
   */
  readonly rawBaseline: RawBaseline = {
    name: 'lxc-execute',
    prepare: async (workDir, rootfs, args) => {
      const spec = buildSpec({ rootfs, args }, this.features).spec;
      const lxcpath = path.join(workDir, 'lxc');
      fs.mkdirSync(lxcpath, { recursive: true });
      const { config } = this.render(spec, lxcpath);
      const configFile = path.join(workDir, 'raw.conf');
      fs.writeFileSync(configFile, config);
      return { argv: new LxcTools({ lxcpath }).executeArgv(`berth-raw-${process.pid}`, configFile, args) };
    },
  };

  async start(ref: ContainerRef): Promise<void> {
    const gate = readState(ref.stateDir).init;
    if (!gate) throw new BerthError('CONTAINER_STATE', `container "${ref.id}" is not held at its start gate`);
    appendState(ref.stateDir, 'started');
    // The gate stops itself right after writing its init line: wait for that, then let it go on.
    await pollSoon(() => {
      const st = processState(gate.gatePid);
      if (st === undefined || st === 'Z') throw new BerthError('CONTAINER_STATE', `container "${ref.id}" exited before start`);
      return st === 'T' ? true : undefined;
    }, 10000, 'the LXC start gate');
    process.kill(gate.gatePid, 'SIGCONT');
    // OCI: a failing poststart hook is a warning; the container keeps running.
    const failed = await runHooks(ref.spec.hooks?.poststart, ociState(ref, 'running', gate.initPid), false);
    hookWarnings(ref.stateDir, 'poststart', failed);
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    const h = handleOf(ref);
    const record = readState(ref.stateDir);
    if (record.exitCode !== undefined) return { status: 'stopped', exitCode: record.exitCode };
    if (!h.supervisorPid || !isSameProcess(h.supervisorPid, h.supervisorStart)) {
      const late = this.readExit(ref);
      return { status: 'stopped', exitCode: late ?? 255 };
    }
    const pid = record.init?.initPid;
    if (pid === undefined) return { status: 'creating' };
    if (!record.started) return { status: 'created', pid };
    return { status: frozen(pid) ? 'paused' : 'running', pid };
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    const h = handleOf(ref);
    const code = await watchUntil(ref.stateDir, () => {
      const exit = this.readExit(ref);
      if (exit !== undefined) return exit;
      if (!h.supervisorPid || !isSameProcess(h.supervisorPid, h.supervisorStart)) return this.readExit(ref) ?? 255;
      return undefined;
    }, { timeoutMs: Infinity, what: 'the container to exit', pollMs: 200 });
    const signal = code > 128 ? signalName(code - 128) : undefined;
    return { exitCode: code, ...(signal ? { signal } : {}) };
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    const s = await this.state(ref);
    if (s.status === 'stopped' || s.pid === undefined) return;
    if (s.status === 'created') {
      // The user's process never ran: the container ends as if the signal had killed it.
      appendState(ref.stateDir, `exit ${128 + signalNumber(signal)}`);
      this.abortGate(ref);
      return;
    }
    // The spec's process is the child of LXC's init (PID 1 in the container), which forwards every
    // catchable signal to it. SIGKILL and SIGSTOP cannot be forwarded, so every signal goes straight
    // to the process; `all` reaches every process of the container's cgroup except LXC's init, which
    // exits with its child's status once that is gone.
    const child = await processOf(s.pid);
    const target = child ?? s.pid;
    const pids = all ? this.containerPids(s.pid).filter((p) => p !== s.pid) : [target];
    for (const pid of pids) killQuietly(pid, signal);
    if (s.status === 'paused' && signal === 'SIGKILL') await this.setFrozen(ref, false).catch(() => undefined);
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const h = handleOf(ref);
    const name = h.name ?? ref.id;
    const lxcpath = h.lxcpath ?? this.lxcpath(ref.options);
    // A zombie supervisor (exited, not yet reaped by the Node process that spawned it) has finished:
    // waiting for its reaping would cost an event-loop turn and a timer on every delete.
    const supervisorAlive = () => h.supervisorPid !== undefined && isSameProcess(h.supervisorPid, h.supervisorStart) && processState(h.supervisorPid) !== 'Z';
    const record = readState(ref.stateDir);
    const gate = record.init;
    // With a handle, act only while its supervisor lives (its pids are then still ours); a half-created
    // record ({} handle) has only the files to go by.
    const ours = h.supervisorPid === undefined || supervisorAlive();
    await this.detachNetwork(ref, ours && gate ? gate.initPid : undefined);
    if (ours && !record.started) {
      // Created, never started (forced or not): the process never ran; killing the gate aborts LXC.
      if (record.exitCode === undefined) {
        try {
          appendState(ref.stateDir, 'exit 137');
        } catch {
          /* no state folder (a half-created record): nothing to record */
        }
      }
      this.abortGate(ref);
      if (gate) killQuietly(gate.initPid, 'SIGKILL');
      else if (force && h.supervisorPid !== undefined) killQuietly(-h.supervisorPid, 'SIGKILL'); // still setting up
    } else if (force && ours && gate) {
      // Not before LXC's init has forked the process: killed earlier (right after start), the init
      // dies while LXC's monitor waits for it on their sync socket, and the monitor hangs there.
      await processOf(gate.initPid);
      killQuietly(gate.initPid, 'SIGKILL');
      if (frozen(gate.initPid)) await setCgroupFrozen(gate.initPid, false).catch(() => undefined);
    }
    if (h.supervisorPid !== undefined) {
      const gone = await pollSoon(() => (supervisorAlive() ? undefined : true), 10000, 'the LXC supervisor to exit').catch(() => false);
      if (!gone) killQuietly(-h.supervisorPid, 'SIGKILL');
    }
    fs.rmSync(path.join(lxcpath, name), { recursive: true, force: true });
    if (h.supervisorPid !== undefined && (ref.spec.hooks?.poststop ?? []).length > 0) {
      hookWarnings(ref.stateDir, 'poststop', await runHooks(ref.spec.hooks?.poststop, ociState(ref, 'stopped'), false));
    }
    // LXC removes its cgroups itself; berth checks the ones create saw (or, with a handle that has
    // none, every folder named after the container at the top of every hierarchy). A folder can stay
    // busy for a moment after its last process was reaped (a just-exited monitor), so removal is
    // retried briefly before giving up.
    let failed: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      failed = removeCgroupDirs(h.cgroups ? cgroupDirsAt(h.cgroups) : containerCgroupDirs(name));
      if (failed.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (failed.length > 0) throw new BerthError('BACKEND_FAILED', `lxc: could not remove cgroup ${failed.join(', ')}`);
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    const proc = ref.spec.process!;
    if (request.tty) throw new OperationNotSupportedError(this.name, 'exec --tty', 'terminals are not supported');
    const user = request.user ?? proc.user;
    if ((user.additionalGids ?? []).length > 0) throw new OperationNotSupportedError(this.name, 'exec', 'lxc-attach cannot set additional groups (it drops them)');
    // lxc-attach has no working-directory option and starts in /: another cwd goes through the
    // rootfs's own /bin/sh (so it needs one), as the chroot driver does.
    const cwd = request.cwd ?? proc.cwd;
    let command = request.args;
    if (cwd !== '/') {
      if (!hasShell(ref.spec.root!.path)) throw new OperationNotSupportedError(this.name, 'exec', `working directory "${cwd}" needs /bin/sh in the rootfs (lxc-attach cannot set one)`);
      command = ['/bin/sh', '-c', 'cd -- "$0" || exit 126; exec "$@"', cwd, ...request.args];
    }
    try {
      const r = await this.tools(ref).attach(handleOf(ref).name, {
        command,
        env: request.env ?? proc.env ?? [],
        uid: user.uid,
        gid: user.gid,
        stdio: { stdin: request.stdio.stdin ?? 'ignore', stdout: request.stdio.stdout, stderr: request.stdio.stderr },
      });
      return r.signal ? { exitCode: r.exitCode, signal: r.signal } : { exitCode: r.exitCode };
    } catch (err) {
      throw backendError(err);
    }
  }

  override async pause(ref: ContainerRef): Promise<void> {
    await this.setFrozen(ref, true);
  }

  override async resume(ref: ContainerRef): Promise<void> {
    await this.setFrozen(ref, false);
  }

  /**
   * lxc-freeze / lxc-unfreeze first; LXC 5.0 fails them on hybrid cgroup hosts ("Failed to freeze"),
   * so the container's own freezer cgroup is written directly when the tool fails.
   */
  private async setFrozen(ref: ContainerRef, frozenWanted: boolean): Promise<void> {
    const h = handleOf(ref);
    const tools = this.tools(ref);
    try {
      await (frozenWanted ? tools.freeze(h.name) : tools.unfreeze(h.name));
      return;
    } catch (err) {
      const pid = (await this.state(ref)).pid;
      if (pid === undefined || !(await setCgroupFrozen(pid, frozenWanted).catch(() => false))) throw backendError(err);
    }
  }

  override async stats(ref: ContainerRef): Promise<ContainerStats> {
    const h = handleOf(ref);
    const stats = await readLxcStats(this.tools(ref), h.name, h.cgroupVersion ?? detectCgroupVersion());
    if (!stats.memory && !stats.cpu && !stats.pids) throw new BerthError('BACKEND_FAILED', `lxc: no cgroup statistics for container "${ref.id}" (is it running?)`);
    return stats;
  }

  override async update(ref: ContainerRef, resources: Resources): Promise<void> {
    const h = handleOf(ref);
    const swapAccounting = h.cgroupVersion === 'v2' || fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
    const assignments = cgroupAssignments(cgroupLimitsFor(resources, swapAccounting), h.cgroupVersion ?? detectCgroupVersion());
    // v1 refuses a memory limit above memory+swap: raise memsw first when it grows.
    if (h.cgroupVersion === 'v1') assignments.sort((a, b) => (a.file === 'memory.memsw.limit_in_bytes' ? -1 : b.file === 'memory.memsw.limit_in_bytes' ? 1 : 0));
    const tools = this.tools(ref);
    for (const a of assignments) {
      await tools.cgroupSet(h.name, a.file, a.value).catch((err: unknown) => Promise.reject(backendError(err)));
    }
  }

  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    await copyLogs(logPaths(ref.stateDir), request, request.follow, async () => (await this.state(ref)).status === 'stopped');
  }

  /**
   * The built helper: the `helper` option (request, then driver) when given, and only that one;
   * otherwise next to this module in dist/, or dist/ seen from the sources (tests).
   */
  private findHelper(options: Readonly<Record<string, JsonValue>>): string | undefined {
    const given = typeof options.helper === 'string' ? options.helper : this.options.helper;
    const candidates = given !== undefined ? [given] : [path.join(__dirname, HELPER_NAME), path.resolve(__dirname, '../../dist/drivers/lxc', HELPER_NAME)];
    return candidates.find((p) => fs.existsSync(p));
  }

  private missingHelper(options: Readonly<Record<string, JsonValue>>): string {
    const given = typeof options.helper === 'string' ? options.helper : this.options.helper;
    return given !== undefined ? `berth-lxc-helper not found at ${given} (the "helper" option)` : 'berth-lxc-helper is not built (npm run build; needs gcc and libc6-dev)';
  }

  private lxcpath(options: Readonly<Record<string, JsonValue>>): string {
    const fromRequest = options.lxcpath;
    return typeof fromRequest === 'string' ? fromRequest : (this.options.lxcpath ?? DEFAULT_LXCPATH);
  }

  private tools(ref: ContainerRef): LxcTools {
    return new LxcTools({ lxcpath: handleOf(ref).lxcpath ?? this.lxcpath(ref.options) });
  }

  private readExit(ref: ContainerRef): number | undefined {
    return readState(ref.stateDir).exitCode;
  }

  /** The network attacher: injected, or made on first use (a driver built without DI, as in tests). */
  private attacher(): NetworkAttacher {
    if (!this.network) this.network = createNetworkAttacher().attacher;
    return this.network;
  }

  /** Undo a bridge attachment (idempotent; works from the handle's record, or the spec alone for a half-created container). */
  private async detachNetwork(ref: ContainerRef, initPid: number | undefined): Promise<void> {
    const h = handleOf(ref);
    let request;
    try {
      request = networkRequestFromSpec(ref.spec);
    } catch {
      return;
    }
    if (request.mode !== 'bridge' && h.network === undefined) return;
    const alive = initPid !== undefined && isAlive(initPid);
    await this.attacher().detach(ref.id, alive ? `/proc/${initPid}/ns/net` : undefined, attachmentFromJson(h.network), request);
  }

  /** End a container held at its start gate: the killed hook makes LXC abort before the init runs. */
  private abortGate(ref: ContainerRef): void {
    const gate = readState(ref.stateDir).init;
    if (gate) killQuietly(gate.gatePid, 'SIGKILL');
  }

  /** Every process of the container: the members of the init's cgroup (and below). */
  private containerPids(initPid: number): number[] {
    const dirs = processCgroupDirs(initPid);
    const dir = dirs.find((d) => /\/pids\//.test(d)) ?? dirs.find((d) => /\/freezer\//.test(d)) ?? dirs[0];
    const pids = dir ? cgroupPids(dir) : [];
    return pids.length > 0 ? pids : [initPid];
  }

  private setupError(dir: string, argv: readonly string[]): BerthError {
    const read = (name: 'log' | 'hookError') => {
      try {
        return fs.readFileSync(stateFile(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const code = readState(dir).exitCode ?? null;
    // A failing start gate (sysctls) says why in hook.err; LXC itself only logs "Script exited with status 1".
    const message = read('hookError').trim().split('\n').pop() || lastLxcMessage(read('log')) || 'it exited before its init ran (no LXC log)';
    return new BackendCommandError(argv, code, message, 'lxc-execute could not set up the container');
  }

}

function ociState(ctx: { id: string; bundle: string; spec: Spec }, status: OciState['status'], pid?: number): OciState {
  return { ociVersion: OCI_VERSION, id: ctx.id, status, ...(pid !== undefined ? { pid } : {}), bundle: ctx.bundle, ...(ctx.spec.annotations ? { annotations: ctx.spec.annotations } : {}) };
}

/** Hooks whose failure is only a warning (poststart, poststop): kept in STATE/hooks.log, as the driver has no logger. */
function hookWarnings(dir: string, phase: string, failures: HookFailure[]): void {
  if (failures.length === 0) return;
  try {
    fs.appendFileSync(path.join(dir, 'hooks.log'), failures.map((f) => `warning: hooks.${phase}[${f.index}]: ${f.message}\n`).join(''));
  } catch {
    /* the state folder is gone */
  }
}

/** Whether the rootfs has a /bin/sh (a symlink counts: it resolves inside the container, not here). */
function hasShell(rootfs: string): boolean {
  try {
    fs.lstatSync(path.join(rootfs, 'bin/sh'));
    return true;
  } catch {
    return false;
  }
}

/**
 * The spec's process, the child of LXC's init; right after start the init may not have forked it
 * yet, so it is waited for (briefly). Undefined when the init is gone or never forks it in time.
 */
async function processOf(initPid: number): Promise<number | undefined> {
  const child = userProcess(initPid) ?? (await pollUntil(() => userProcess(initPid) ?? (isAlive(initPid) ? undefined : -1), 2000, 'the container process', 1).catch(() => undefined));
  return child !== undefined && child > 0 ? child : undefined;
}

/**
 * The cgroups LXC made for a container, read from its init (payload) and LXC's monitor (the
 * supervisor's child, lxc-execute): each path cut after its `lxc.payload.*`/`lxc.monitor.*` part.
 */
function lxcCgroups(initPid: number, supervisorPid: number): string[] {
  const monitor = userProcess(supervisorPid);
  const paths = [...processCgroupPaths(initPid), ...(monitor !== undefined ? processCgroupPaths(monitor) : [])];
  const ours = paths.map((p) => /^(.*?\/lxc\.(?:payload|monitor)\.[^/]+)/.exec(p)?.[1]).filter((p): p is string => p !== undefined);
  return [...new Set(ours)];
}

function handleOf(ref: ContainerRef): Partial<LxcHandle> & { name: string } {
  const h = ref.handle as Partial<LxcHandle>;
  return { ...h, name: h.name ?? ref.id };
}




function openStdio(request: CreateRequest): { options: Array<number | 'ignore'>; close: () => void } {
  if (request.stdio.kind === 'fds') {
    const s = request.stdio;
    return { options: [s.stdin ?? 'ignore', s.stdout, s.stderr], close: () => {} };
  }
  const files = logPaths(request.stateDir);
  const stdout = fs.openSync(files.stdout, 'a');
  const stderr = fs.openSync(files.stderr, 'a');
  return { options: ['ignore', stdout, stderr], close: () => [stdout, stderr].forEach((fd) => fs.closeSync(fd)) };
}



function backendError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  if (err instanceof LxcCommandError) return new BackendCommandError(err.argv, err.exitCode, err.stderr, `${path.basename(err.argv[0] ?? 'lxc')} failed`);
  return new BerthError('BACKEND_FAILED', `lxc: ${(err as Error).message}`, { cause: err });
}



