import * as fs from 'node:fs';
import * as path from 'node:path';
import { injectable } from 'inversify';
import {
  BaseDriver,
  BerthError,
  OCI_VERSION,
  copyLogs,
  isSameProcess,
  logPaths,
  processStartTime,
  signalName,
  type ContainerRef,
  type ContainerStats,
  type CreateRequest,
  type DriverHandle,
  type Device,
  type DriverState,
  type ExecRequest,
  type ExecutionDriver,
  type ExitResult,
  type Feature,
  type Fingerprint,
  type LogsRequest,
  type OciState,
  type OciStatus,
  type Resources,
} from '../../core';
import { detectBerthCgroupManager, cgroupResourceFeatures, type BerthCgroupManager, type CgroupHandle } from './cgroups/cgroup-manager';
import { deviceRulesForLinuxDevices } from './cgroups/v1/v1-devices';
import { encodePlan, execPlan, launchPlan } from './launch-plan';
import { cgroupBinds, oomFile } from './cgroup-binds';
import { expectedCgroupHandle } from './cgroup-intent';
import { findNativeBinary } from './native-binary';
import { launchMonitor, runExec, type Stdio } from './native-process';
import { runHooks } from './native-hooks';
import { seccompCompiler } from './seccomp-compiler';
import { NATIVE_BASE_FEATURES } from './native-features';
import { runcBaseline } from './runc-baseline';
import { attachNetwork, detachNetwork } from './native-network';
import {
  STATE_FILES,
  hasStarted,
  readCgroupHandle,
  readError,
  readExit,
  readPid,
  waitForFiles,
  writeCgroupHandle,
  type NativeHandle,
} from './native-state-files';

/**
 * berth's own runtime, the default driver: TypeScript computes a launch plan from the spec and
 * manages cgroups; berth-native (C) creates the namespaces, builds the root, drops privileges and
 * stays as a tiny per-container monitor that records the exit status.
 */
@injectable()
export class NativeDriver extends BaseDriver implements ExecutionDriver {
  readonly name = 'native';
  readonly description = "berth's own runtime: namespaces, cgroups, capabilities, seccomp, pivot_root (like runc)";
  readonly features: ReadonlySet<Feature>;
  readonly rawBaseline = runcBaseline;
  private cgroupManager: BerthCgroupManager | undefined;

  constructor() {
    super();
    const features = new Set<Feature>(NATIVE_BASE_FEATURES);
    try {
      for (const f of cgroupResourceFeatures(this.cgroups())) features.add(f);
    } catch {
      /* no cgroups: fingerprint says why */
    }
    if (seccompCompiler()) features.add('linux.seccomp');
    this.features = features;
  }

  private cgroups(): BerthCgroupManager {
    // berth-native loads and attaches the v2 device program itself, so every device list is honoured.
    this.cgroupManager ??= detectBerthCgroupManager(undefined, { callerAttachesDeviceFilter: true });
    return this.cgroupManager;
  }

  private binary(options: Readonly<Record<string, unknown>>): string {
    const found = findNativeBinary(typeof options.binary === 'string' ? options.binary : undefined);
    if (!found) throw new BerthError('DRIVER_UNAVAILABLE', 'native: berth-native is not built (run `npm run build`)');
    return found;
  }

  async fingerprint(): Promise<Fingerprint> {
    const binary = findNativeBinary();
    if (!binary) {
      return { available: false, reason: 'berth-native is not built', installHint: 'npm run build (needs gcc and make)', health: 'undetected', attributes: {} };
    }
    if (process.getuid?.() !== 0) return { available: false, reason: 'the native driver needs root', health: 'unhealthy', attributes: {} };
    let version: 1 | 2;
    try {
      version = this.cgroups().version;
    } catch (err) {
      return { available: false, reason: `cgroups: ${(err as Error).message}`, health: 'unhealthy', attributes: {} };
    }
    return {
      available: true,
      health: 'healthy',
      version: '1',
      attributes: { binary, cgroups: `v${version}`, seccomp: seccompCompiler() ? 'bpf (compiled in TypeScript)' : 'unavailable', isolation: 'namespaces' },
    };
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const { spec, stateDir, id } = request;
    const binary = this.binary(request.options);
    const compile = seccompCompiler();
    const cgroups = this.cgroups();
    // Validate everything pure first: nothing exists yet if the spec cannot be honoured.
    const probe = { id, bundle: request.bundle, stateDir, procsFiles: [], cgroupBinds: [], cgroupVersion: cgroups.version, ...(compile ? { compileSeccomp: compile } : {}) };
    launchPlan(spec, probe);
    const relPath = cgroupPath(spec.linux?.cgroupsPath, id);
    const resources = cgroupResources(spec);
    const deviceFilter = cgroups.deviceFilter(resources);
    writeCgroupHandle(stateDir, expectedCgroupHandle(relPath)); // findable even if we die inside create()
    const cgroup = await cgroups.create(relPath, resources);
    let monitorPid: number | undefined;
    try {
      writeCgroupHandle(stateDir, cgroup);
      const plan = launchPlan(spec, {
        ...probe,
        procsFiles: cgroups.procsFiles(cgroup),
        cgroupBinds: cgroupBinds(cgroup),
        ...(oomFile(cgroup) ? { oomFile: oomFile(cgroup)! } : {}),
        ...(deviceFilter && cgroup.paths.unified ? { deviceFilter: { program: deviceFilter, cgroup: cgroup.paths.unified } } : {}),
      });
      const stdio = openStdio(request);
      let launched: { monitorPid: number; initPid: number };
      try {
        launched = await launchMonitor(binary, encodePlan(plan), stdio.stdio);
      } finally {
        stdio.close();
      }
      monitorPid = launched.monitorPid;
      const handle: NativeHandle = {
        version: 1,
        monitorPid,
        ...optional('monitorStart', processStartTime(monitorPid)),
        initPid: launched.initPid,
        ...optional('initStart', processStartTime(launched.initPid)),
        cgroup,
      };
      const network = await attachNetwork(id, spec, launched.initPid);
      if (network !== undefined) handle.network = network;
      const state = ociState(request, 'created', launched.initPid);
      await runHooks(spec.hooks?.createRuntime, state, 'createRuntime');
      await runHooks(spec.hooks?.prestart, state, 'prestart');
      return { ...handle };
    } catch (err) {
      const initPid = readPid(stateDir, STATE_FILES.initPid);
      await detachNetwork(id, spec, undefined, initPid ? `/proc/${initPid}/ns/net` : undefined).catch(() => undefined);
      await this.destroy(stateDir, cgroup, monitorPid).catch(() => undefined);
      throw err;
    }
  }

  async start(ref: ContainerRef): Promise<void> {
    const dir = ref.stateDir;
    const h = handleOf(ref);
    let fd: number;
    try {
      // Non-blocking: only the monitor holds the fifo open for reading; without it, ENXIO.
      fd = fs.openSync(path.join(dir, STATE_FILES.startFifo), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      throw new BerthError('BACKEND_FAILED', `native: start: the container's monitor is gone (${(err as NodeJS.ErrnoException).code})`, { cause: err });
    }
    try {
      fs.writeSync(fd, 'S');
    } finally {
      fs.closeSync(fd);
    }
    const found = await waitForFiles(dir, [STATE_FILES.started, STATE_FILES.exit], 10000, () => isSameProcess(h.monitorPid, h.monitorStart));
    const error = readError(dir);
    if (error) throw new BerthError(/No such file|Permission denied/.test(error) ? 'COMMAND_NOT_FOUND' : 'BACKEND_FAILED', `native: start: ${error}`);
    if (!found) throw new BerthError('BACKEND_FAILED', 'native: the container did not start');
    await runHooks(ref.spec.hooks?.poststart, ociState(ref, 'running', h.initPid), 'poststart').catch(() => undefined);
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    const dir = ref.stateDir;
    const exit = readExit(dir);
    if (exit) return { status: 'stopped', exitCode: exit.exitCode, ...(exit.oomKilled ? { oomKilled: true } : {}) };
    const h = handleOf(ref);
    if (!isSameProcess(h.initPid, h.initStart)) {
      // The monitor may be writing the exit record right now.
      if (isSameProcess(h.monitorPid, h.monitorStart)) {
        await waitForFiles(dir, [STATE_FILES.exit], 1000, () => isSameProcess(h.monitorPid, h.monitorStart));
        const late = readExit(dir);
        if (late) return { status: 'stopped', exitCode: late.exitCode, ...(late.oomKilled ? { oomKilled: true } : {}) };
      }
      // The monitor may have written the record and exited between the first read and the check above.
      const last = readExit(dir);
      if (last) return { status: 'stopped', exitCode: last.exitCode, ...(last.oomKilled ? { oomKilled: true } : {}) };
      return { status: 'stopped', exitCode: 255 };
    }
    if (!hasStarted(dir)) return { status: 'created', pid: h.initPid };
    const frozen = await this.cgroups().isFrozen(h.cgroup).catch(() => false);
    return { status: frozen ? 'paused' : 'running', pid: h.initPid };
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    const h = handleOf(ref);
    for (;;) {
      const exit = readExit(ref.stateDir);
      if (exit) {
        const signal = exit.signal ? signalName(exit.signal) : undefined;
        return { exitCode: exit.exitCode, ...(signal ? { signal } : {}), ...(exit.oomKilled ? { oomKilled: true } : {}) };
      }
      const monitorAlive = isSameProcess(h.monitorPid, h.monitorStart);
      // The monitor writes the exit record, then exits: look once more before calling it unknown.
      if (!monitorAlive && !isSameProcess(h.initPid, h.initStart) && !readExit(ref.stateDir)) return { exitCode: 255 };
      // With the monitor gone (SIGKILLed) only polling the init is left.
      await waitForFiles(ref.stateDir, [STATE_FILES.exit], monitorAlive ? 60000 : 100, () => isSameProcess(h.monitorPid, h.monitorStart));
    }
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    const h = handleOf(ref);
    const cgroups = this.cgroups();
    const wasFrozen = await cgroups.isFrozen(h.cgroup).catch(() => false);
    if (all) {
      // Frozen while signalling, so nothing forks past the list, as runc does.
      await cgroups.freeze(h.cgroup).catch(() => undefined);
      await cgroups.killAll(h.cgroup, signal);
    } else if (isSameProcess(h.initPid, h.initStart)) {
      try {
        process.kill(h.initPid, signal);
      } catch {
        /* exited meanwhile */
      }
    }
    // A frozen process cannot die: SIGKILL thaws; other signals leave a paused container paused.
    if (signal === 'SIGKILL' || (all && !wasFrozen)) await cgroups.thaw(h.cgroup).catch(() => undefined);
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const dir = ref.stateDir;
    const h = ref.handle as Partial<NativeHandle>;
    const cgroup = h.cgroup ?? readCgroupHandle(dir);
    const monitorPid = h.monitorPid ?? readPid(dir, STATE_FILES.monitorPid);
    const initPid = h.initPid ?? readPid(dir, STATE_FILES.initPid);
    if (!force && initPid !== undefined && isSameProcess(initPid, h.initStart) && hasStarted(dir) && !readExit(dir)) {
      throw new BerthError('CONTAINER_STATE', `native: container ${ref.id} is still running`);
    }
    const alive = initPid !== undefined && isSameProcess(initPid, h.initStart);
    // While the namespace still exists, so every plugin can undo its part.
    await detachNetwork(ref.id, ref.spec, h.network, alive ? `/proc/${initPid}/ns/net` : undefined);
    if (alive) {
      try {
        process.kill(initPid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await this.destroy(dir, cgroup, monitorPid, h.monitorStart);
    if (h.initPid !== undefined) {
      await runHooks(ref.spec.hooks?.poststop, ociState(ref, 'stopped', undefined), 'poststop').catch(() => undefined);
    }
  }

  /** No process, cgroup or monitor left: the cgroup first (freeze, kill all, thaw, remove), then the monitor. */
  private async destroy(dir: string, cgroup: CgroupHandle | undefined, monitorPid: number | undefined, monitorStart?: number): Promise<void> {
    if (cgroup) await this.cgroups().destroy(cgroup);
    if (monitorPid === undefined) return;
    const start = monitorStart ?? processStartTime(monitorPid);
    const deadline = Date.now() + 2000;
    while (isSameProcess(monitorPid, start) && Date.now() < deadline) {
      await waitForFiles(dir, [STATE_FILES.exit], 50, () => isSameProcess(monitorPid, start));
      if (readExit(dir)) break;
    }
    if (isSameProcess(monitorPid, start)) {
      try {
        process.kill(monitorPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    while (isSameProcess(monitorPid, start)) await new Promise((r) => setTimeout(r, 5));
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    const h = handleOf(ref);
    const plan = execPlan(ref.spec, request, h.initPid, this.cgroups().procsFiles(h.cgroup), seccompCompiler());
    const result = await runExec(this.binary(ref.options), encodePlan(plan), {
      stdin: request.stdio.stdin ?? 'ignore',
      stdout: request.stdio.stdout,
      stderr: request.stdio.stderr,
    });
    if (result.exitCode > 128 && result.exitCode < 160) {
      const signal = signalName(result.exitCode - 128);
      if (signal) return { exitCode: result.exitCode, signal };
    }
    return result;
  }

  override async pause(ref: ContainerRef): Promise<void> {
    await this.cgroups().freeze(handleOf(ref).cgroup);
  }

  override async resume(ref: ContainerRef): Promise<void> {
    await this.cgroups().thaw(handleOf(ref).cgroup);
  }

  override async stats(ref: ContainerRef): Promise<ContainerStats> {
    return this.cgroups().stats(handleOf(ref).cgroup);
  }

  override async update(ref: ContainerRef, resources: Resources): Promise<void> {
    await this.cgroups().update(handleOf(ref).cgroup, resources);
  }

  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    await copyLogs(logPaths(ref.stateDir), request, request.follow, async () => (await this.state(ref)).status === 'stopped');
  }

  override async recover(ref: ContainerRef): Promise<DriverHandle> {
    const h = handleOf(ref);
    if (!fs.existsSync(ref.stateDir)) throw new BerthError('STATE_CORRUPT', `native: state folder of ${ref.id} is gone`);
    return { ...h };
  }
}

function handleOf(ref: ContainerRef): NativeHandle {
  const h = ref.handle as Partial<NativeHandle>;
  if (h.version !== 1 || !h.initPid || !h.monitorPid || !h.cgroup) {
    throw new BerthError('STATE_CORRUPT', `native: container ${ref.id} has an incomplete handle; use delete --force`);
  }
  return h as NativeHandle;
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

/** The spec's resources, with allow rules for the linux.devices nodes after its own device rules (as runc). */
function cgroupResources(spec: { linux?: { resources?: Resources; devices?: Device[] } }): Resources | undefined {
  const resources = spec.linux?.resources;
  const extra = deviceRulesForLinuxDevices(spec.linux?.devices);
  if (extra.length === 0 || !resources?.devices?.length) return resources;
  return { ...resources, devices: [...resources.devices, ...extra] };
}

/** The cgroup path below every hierarchy: linux.cgroupsPath (cgroupfs style) or berth/<id>. */
export function cgroupPath(cgroupsPath: string | undefined, id: string): string {
  if (!cgroupsPath) return `berth/${id}`;
  if (cgroupsPath.includes(':')) throw new BerthError('SPEC_INVALID', 'linux.cgroupsPath: systemd-style "slice:prefix:name" paths are not supported (driver "native")');
  const rel = path.posix.normalize(cgroupsPath).replace(/^\/+/, '');
  if (!rel || rel === '.' || rel.startsWith('..')) throw new BerthError('SPEC_INVALID', `linux.cgroupsPath: "${cgroupsPath}" is not a cgroup below the root (driver "native")`);
  return rel;
}

function ociState(ctx: { id: string; bundle: string; spec: { annotations?: Record<string, string> } }, status: OciStatus, pid: number | undefined): OciState {
  return {
    ociVersion: OCI_VERSION,
    id: ctx.id,
    status,
    ...(pid !== undefined ? { pid } : {}),
    bundle: ctx.bundle,
    ...(ctx.spec.annotations ? { annotations: ctx.spec.annotations } : {}),
  };
}

function openStdio(request: CreateRequest): { stdio: Stdio; close: () => void } {
  if (request.stdio.kind === 'fds') {
    const s = request.stdio;
    return { stdio: { stdin: s.stdin ?? 'ignore', stdout: s.stdout, stderr: s.stderr }, close: () => undefined };
  }
  const files = logPaths(request.stateDir);
  const stdout = fs.openSync(files.stdout, 'a');
  const stderr = fs.openSync(files.stderr, 'a');
  return { stdio: { stdin: 'ignore', stdout, stderr }, close: () => [stdout, stderr].forEach((fd) => fs.closeSync(fd)) };
}
