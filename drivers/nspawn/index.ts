/**
 * Driver entry: berth loads this module because drivers.json names it, and reads `berthDriver`.
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { NspawnDriver } from './nspawn-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: () =>
    new ContainerModule(({ bind }) => {
      bind(NspawnDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(NspawnDriver);
    }),
};
