import * as path from 'node:path';
import { Container, inject, injectable } from 'inversify';
import { ExecutionDriver, type Fingerprint } from '../driver/execution-driver';
import { DriversConfig, type DriverEntry } from './drivers-config';
import { DRIVER_API_VERSION, type DriverModuleExport } from './driver-module';
import { BerthError } from '../errors/berth-error';

export interface DriverSummary {
  name: string;
  module: string;
  loaded: boolean;
  /** Set when the module could not be loaded; the driver is then unavailable. */
  loadError?: string;
  description?: string;
  fingerprint: Fingerprint;
  features: string[];
}

/**
 * The per-host driver registry. Each drivers.json entry is loaded on first use only (using one
 * driver never loads another's module), into one InversifyJS container; the driver is found among
 * the `ExecutionDriver` bindings by its name.
 */
@injectable()
export class DriverRegistry {
  private readonly container = new Container();
  private readonly loaded = new Map<string, ExecutionDriver>();
  private readonly fingerprints = new Map<string, Promise<Fingerprint>>();

  constructor(@inject(DriversConfig) readonly config: DriversConfig) {}

  names(): string[] {
    return Object.keys(this.config.drivers);
  }

  has(name: string): boolean {
    return name in this.config.drivers;
  }

  /** The driver registered as `name`, loading its module if needed. */
  async get(name: string): Promise<ExecutionDriver> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const entry = this.config.drivers[name];
    if (!entry) {
      throw new BerthError('DRIVER_UNKNOWN', `unknown driver "${name}" (registered: ${this.names().join(', ') || 'none'})`);
    }
    const before = new Set(this.allBound());
    const exported = loadModuleExport(name, entry);
    try {
      await this.container.load(exported.createModule(entry.options));
    } catch (err) {
      throw new BerthError('DRIVER_LOAD_FAILED', `driver "${name}": its module failed to load: ${(err as Error).message}`, { cause: err });
    }
    const added = this.allBound().filter((d) => !before.has(d));
    const driver = added.find((d) => d.name === name);
    if (!driver) {
      const got = added.map((d) => d.name).join(', ') || 'nothing';
      throw new BerthError('DRIVER_LOAD_FAILED', `driver "${name}": module ${entry.module} bound ${got}, not a driver named "${name}"`);
    }
    this.loaded.set(name, driver);
    return driver;
  }

  /** Fingerprint once per process; a throwing fingerprint counts as unavailable. */
  fingerprint(driver: ExecutionDriver): Promise<Fingerprint> {
    let fp = this.fingerprints.get(driver.name);
    if (!fp) {
      fp = driver.fingerprint().catch((err: unknown) => ({
        available: false,
        reason: `fingerprint failed: ${(err as Error).message}`,
        health: 'unhealthy' as const,
        attributes: {},
      }));
      this.fingerprints.set(driver.name, fp);
    }
    return fp;
  }

  /** Every registered driver with availability and features; load failures are reported, not thrown. */
  async summaries(): Promise<DriverSummary[]> {
    const out: DriverSummary[] = [];
    for (const name of this.names()) {
      const entry = this.config.drivers[name]!;
      try {
        const driver = await this.get(name);
        const fingerprint = await this.fingerprint(driver);
        out.push({ name, module: entry.module, loaded: true, description: driver.description, fingerprint, features: [...driver.features].sort() });
      } catch (err) {
        const message = (err as Error).message;
        out.push({
          name,
          module: entry.module,
          loaded: false,
          loadError: message,
          fingerprint: { available: false, reason: message, health: 'undetected', attributes: {} },
          features: [],
        });
      }
    }
    return out;
  }

  private allBound(): ExecutionDriver[] {
    return this.container.isBound(ExecutionDriver) ? this.container.getAll<ExecutionDriver>(ExecutionDriver) : [];
  }
}

function loadModuleExport(name: string, entry: DriverEntry): DriverModuleExport {
  const isPath = entry.module.startsWith('.') || path.isAbsolute(entry.module);
  const request = isPath ? path.resolve(entry.baseDir, entry.module) : entry.module;
  let mod: { berthDriver?: DriverModuleExport };
  try {
    mod = isPath ? require(request) : require(require.resolve(request, { paths: [process.cwd(), entry.baseDir] }));
  } catch (err) {
    throw new BerthError('DRIVER_LOAD_FAILED', `driver "${name}": cannot load module "${entry.module}": ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const exported = mod.berthDriver;
  if (!exported || typeof exported.createModule !== 'function') {
    throw new BerthError('DRIVER_LOAD_FAILED', `driver "${name}": module "${entry.module}" exports no berthDriver`);
  }
  if (exported.apiVersion !== DRIVER_API_VERSION) {
    throw new BerthError('DRIVER_LOAD_FAILED', `driver "${name}": module speaks driver API ${exported.apiVersion}, berth speaks ${DRIVER_API_VERSION}`);
  }
  return exported;
}
