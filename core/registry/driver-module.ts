import type { ContainerModule } from 'inversify';
import type { JsonValue } from '../driver/execution-driver';

/** The plugin API version this berth speaks. */
export const DRIVER_API_VERSION = 1;

/**
 * What a driver module exports as `berthDriver`: an InversifyJS ContainerModule that binds the
 * driver class and contributes it with `bind(ExecutionDriver).toService(TheDriver)`.
 */
export interface DriverModuleExport {
  apiVersion: number;
  createModule(options: Readonly<Record<string, JsonValue>>): ContainerModule;
}
