import * as path from 'node:path';
import { DriverRegistry } from '../core/registry/driver-registry';
import { configFiles, loadDriversConfig } from '../core/registry/drivers-config';
import { selectDriver, type DriverChoice } from '../core/registry/driver-selection';
import { StateStore } from '../core/state/state-store';
import { DEFAULT_STATE_ROOT } from '../core/state/volatile-root';
import { ContainerManager } from '../core/runtime/container-manager';
import { LineLogger, type Logger } from '../core/logging/logger';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  config?: string;
  driver?: string;
}

/** drivers.json shipped with berth: next to core/ and cli/ in the source tree and in dist/. */
export const BUILTIN_DRIVERS_JSON = path.join(__dirname, '..', 'drivers.json');

/** The CLI's composition root: builds the registry, store and manager on first use only. */
export class CliContext {
  private registryInstance?: DriverRegistry;
  private managerInstance?: ContainerManager;
  readonly log: Logger;

  constructor(readonly globals: GlobalOptions) {
    this.log = new LineLogger({ level: globals.debug ? 'debug' : 'warn', format: globals.logFormat, file: globals.log });
  }

  registry(): DriverRegistry {
    if (!this.registryInstance) {
      const files = configFiles(BUILTIN_DRIVERS_JSON, this.globals.config, process.env);
      const config = loadDriversConfig(files);
      this.log.debug('drivers config', { files: config.sources });
      this.registryInstance = new DriverRegistry(config);
    }
    return this.registryInstance;
  }

  manager(): ContainerManager {
    if (!this.managerInstance) this.managerInstance = new ContainerManager(this.registry(), new StateStore(this.globals.root, { volatile: path.resolve(this.globals.root) === DEFAULT_STATE_ROOT }), this.log);
    return this.managerInstance;
  }

  /** Pick the driver for a new container and say why at debug level. */
  async chooseDriver(explicit?: string): Promise<DriverChoice> {
    const choice = await selectDriver(this.registry(), explicit ?? this.globals.driver, process.env);
    this.log.debug(`driver "${choice.driver.name}" chosen: ${choice.reason}`);
    return choice;
  }
}
