/**
 * The core's lifecycle orchestration: validates and feature-checks a spec against the chosen driver
 * before anything exists, keeps the container record, routes every later call to the driver that
 * created the container, and enforces the OCI state machine. It never branches on a driver's name.
 */
import type {
  ContainerRef,
  ContainerStats,
  DriverState,
  ExecRequest,
  ExecutionDriver,
  ExitResult,
  LogsRequest,
  StdioTarget,
} from '../driver/execution-driver';
import type { OciState, OciStatus, Resources, Spec } from '../spec/oci-spec';
import type { ContainerRecord } from '../state/container-record';
import type { Logger } from '../logging/logger';
import type { DriverRegistry } from '../registry/driver-registry';
import { StateStore, assertValidId } from '../state/state-store';
import { validateSpec } from '../spec/validate-spec';
import { assertRootfs } from '../spec/load-bundle';
import { assertSpecSupported } from '../driver/feature-check';
import { BerthError } from '../errors/berth-error';
import { ContainerStateError } from '../errors/container-state-error';
import { LifecycleEvents } from '../events/lifecycle-events';
import { OCI_VERSION } from '../spec/default-spec';

export interface CreateOptions {
  id: string;
  /** Absolute bundle folder; for flag-built specs, the folder holding the rootfs or the state dir. */
  bundle: string;
  spec: Spec;
  driver: ExecutionDriver;
  stdio: StdioTarget;
}

export interface ContainerSummary {
  id: string;
  driver: string;
  bundle: string;
  created: string;
  status: OciStatus | 'unknown';
  pid?: number;
  exitCode?: number;
  /** Why the status is unknown (driver missing, record corrupt...). */
  problem?: string;
}

export class ContainerManager {
  readonly events = new LifecycleEvents();

  constructor(
    private readonly registry: DriverRegistry,
    readonly store: StateStore,
    private readonly log: Logger,
  ) {}

  /** OCI create: refuse before anything exists, then claim the id, record, and ask the driver. */
  async create(options: CreateOptions): Promise<ContainerRecord> {
    const { id, driver } = options;
    assertValidId(id);
    const spec = validateSpec(options.spec);
    if (spec.root) assertRootfs(spec.root.path);
    assertSpecSupported(spec, driver);
    // The spec goes with the claim: a create cut short still leaves the driver's name and the spec
    // for `delete --force`. The record is written once, when the driver's create has returned.
    await this.store.claim(id, driver.name, spec);
    const record: ContainerRecord = {
      version: 1,
      id,
      driver: driver.name,
      bundle: options.bundle,
      created: new Date().toISOString(),
      phase: 'created',
      stdio: options.stdio.kind,
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    };
    try {
      const request = { ...this.context(record, spec, driver), stdio: options.stdio };
      this.log.debug('driver create', { id, driver: driver.name });
      const handle = await driver.create(request);
      const created: ContainerRecord = { ...record, handle };
      await this.store.write(created);
      this.events.emit('create', id, driver.name);
      return created;
    } catch (err) {
      await this.store.remove(id);
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    await this.store.lock(id, async () => {
      const { ref, driver } = await this.open(id);
      await this.expectStatus(driver, ref, 'start', ['created']);
      await driver.start(ref);
      this.events.emit('start', id, driver.name);
    });
  }

  async state(id: string): Promise<OciState & { driver: string; exitCode?: number; oomKilled?: boolean }> {
    const { ref, driver, record } = await this.open(id);
    const s = await driver.state(ref);
    return {
      ociVersion: OCI_VERSION,
      id,
      status: s.status,
      ...(s.pid !== undefined && s.status !== 'stopped' ? { pid: s.pid } : {}),
      bundle: record.bundle,
      ...(record.annotations ? { annotations: record.annotations } : {}),
      driver: record.driver,
      ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
      ...(s.oomKilled ? { oomKilled: true } : {}),
    };
  }

  async wait(id: string): Promise<ExitResult> {
    const { ref, driver } = await this.open(id);
    const result = await driver.wait(ref);
    this.events.emit('exit', id, driver.name, { exitCode: result.exitCode });
    return result;
  }

  async kill(id: string, signal: NodeJS.Signals, all: boolean): Promise<void> {
    await this.store.lock(id, async () => {
      const { ref, driver } = await this.open(id);
      if (all && !driver.features.has('op.killAll')) {
        throw new BerthError('OPERATION_NOT_SUPPORTED', `kill --all: not supported by driver "${driver.name}"`);
      }
      await this.expectStatus(driver, ref, 'kill', ['created', 'running', 'paused']);
      await driver.kill(ref, signal, all);
      this.events.emit('kill', id, driver.name, { signal });
    });
  }

  /**
   * OCI delete. Without force a created or stopped container is deleted; a running or paused one is
   * refused. With force: kills first; a record whose driver is gone or whose files are corrupted is
   * still removed (its backend resources, if any, are reported as possibly left behind).
   */
  async delete(id: string, force: boolean): Promise<void> {
    assertValidId(id);
    if (!(await this.store.exists(id))) throw new BerthError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`);
    await this.store.lock(id, async () => {
      let opened: Awaited<ReturnType<ContainerManager['open']>> | undefined;
      try {
        opened = await this.open(id);
      } catch (err) {
        if (!force) throw err;
        this.log.warn(`container "${id}" was never fully created or its record is unusable; cleaning up through the driver named at creation`, { reason: (err as Error).message });
        await this.forceDeleteHalfCreated(id);
        await this.store.remove(id);
        return;
      }
      const { ref, driver } = opened;
      if (!force) await this.expectStatus(driver, ref, 'delete', ['created', 'stopped']);
      await driver.delete(ref, force);
      await this.store.remove(id);
      this.events.emit('delete', id, driver.name);
    });
  }

  async exec(id: string, request: ExecRequest): Promise<ExitResult> {
    const { ref, driver } = await this.open(id);
    await this.expectStatus(driver, ref, 'exec', ['running']);
    this.events.emit('exec', id, driver.name);
    return driver.exec(ref, request);
  }

  async pause(id: string): Promise<void> {
    await this.store.lock(id, async () => {
      const { ref, driver } = await this.open(id);
      await this.expectStatus(driver, ref, 'pause', ['running']);
      await driver.pause(ref);
      this.events.emit('pause', id, driver.name);
    });
  }

  async resume(id: string): Promise<void> {
    await this.store.lock(id, async () => {
      const { ref, driver } = await this.open(id);
      await this.expectStatus(driver, ref, 'resume', ['paused']);
      await driver.resume(ref);
      this.events.emit('resume', id, driver.name);
    });
  }

  async stats(id: string): Promise<ContainerStats> {
    const { ref, driver } = await this.open(id);
    return driver.stats(ref);
  }

  /** Live update of resource limits; the same feature check as create applies to the new values. */
  async update(id: string, resources: Resources): Promise<void> {
    await this.store.lock(id, async () => {
      const { ref, driver } = await this.open(id);
      const probe: Spec = { ...ref.spec, linux: { ...ref.spec.linux, resources } };
      assertSpecSupported(validateSpec(probe), driver);
      await this.expectStatus(driver, ref, 'update', ['created', 'running', 'paused']);
      await driver.update(ref, resources);
      const spec: Spec = { ...ref.spec, linux: { ...ref.spec.linux, resources: mergeResources(ref.spec.linux?.resources, resources) } };
      const record = await this.store.read(id);
      await this.store.write(record, spec);
      this.events.emit('update', id, driver.name);
    });
  }

  async logs(id: string, request: LogsRequest): Promise<void> {
    const { ref, driver } = await this.open(id);
    await driver.logs(ref, request);
  }

  /** Every record with its live status; records that cannot be read show as `unknown` with why. */
  async list(): Promise<ContainerSummary[]> {
    const out: ContainerSummary[] = [];
    for (const id of await this.store.ids()) {
      try {
        const s = await this.state(id);
        out.push({ id, driver: s.driver, bundle: s.bundle, created: (await this.store.read(id)).created, status: s.status, ...(s.pid ? { pid: s.pid } : {}), ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}) });
      } catch (err) {
        const record = await this.store.read(id).catch(() => undefined);
        out.push({ id, driver: record?.driver ?? '?', bundle: record?.bundle ?? '?', created: record?.created ?? '?', status: 'unknown', problem: (err as Error).message });
      }
    }
    return out;
  }

  /** Load the record, the spec and the driver that created the container, and re-adopt it. */
  async open(id: string): Promise<{ record: ContainerRecord; ref: ContainerRef; driver: ExecutionDriver }> {
    const { record, spec } = await this.store.readContainer(id);
    if (record.phase !== 'created' || !record.handle) {
      throw new BerthError('STATE_CORRUPT', `container "${id}" was never fully created (a CLI died mid-create?); use delete --force`);
    }
    const driver = await this.registry.get(record.driver);
    const ref: ContainerRef = { ...this.context(record, spec, driver), handle: record.handle };
    return { record, ref, driver };
  }

  private context(record: ContainerRecord, spec: Spec, driver: ExecutionDriver) {
    const entry = this.registry.config.drivers[driver.name];
    return { id: record.id, bundle: record.bundle, spec, stateDir: this.store.driverDir(record.id), options: entry?.options ?? {} };
  }

  /**
   * A record left in `creating` (CLI killed mid-create) or corrupted: hand what is known to the
   * driver named at claim time so it cleans what it can by id and state folder.
   */
  private async forceDeleteHalfCreated(id: string): Promise<void> {
    const record = await this.store.read(id).catch(() => undefined);
    const driverName = record?.driver ?? (await this.store.driverNameOf(id));
    if (!driverName) return;
    try {
      const spec = await this.store.readSpec(id).catch((): Spec => ({ ociVersion: OCI_VERSION }));
      const driver = await this.registry.get(driverName);
      const base: ContainerRecord = record ?? { version: 1, id, driver: driverName, bundle: this.store.dir(id), created: '', phase: 'creating', stdio: 'log' };
      await driver.delete({ ...this.context(base, spec, driver), handle: record?.handle ?? {} }, true);
    } catch (err) {
      this.log.warn(`container "${id}": driver cleanup failed, backend resources may remain: ${(err as Error).message}`);
    }
  }

  private async expectStatus(driver: ExecutionDriver, ref: ContainerRef, operation: string, allowed: OciStatus[]): Promise<DriverState> {
    const s = await driver.state(ref);
    if (!allowed.includes(s.status)) throw new ContainerStateError(ref.id, s.status, operation, allowed);
    return s;
  }
}

function mergeResources(base: Resources | undefined, update: Resources): Resources {
  return {
    ...base,
    ...update,
    ...(update.memory || base?.memory ? { memory: { ...base?.memory, ...update.memory } } : {}),
    ...(update.cpu || base?.cpu ? { cpu: { ...base?.cpu, ...update.cpu } } : {}),
  };
}
