/**
 * Plugin entry: berth loads this module only because a drivers.json entry names it, and reads
 * `berthDriver` from it. A third-party plugin has exactly this shape, importing berth's core API.
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { ChrootDriver } from './chroot-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: () =>
    new ContainerModule(({ bind }) => {
      bind(ChrootDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(ChrootDriver);
    }),
};
