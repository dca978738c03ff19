/**
 * Driver entry: berth loads this module because drivers.json names it, and reads `berthDriver`.
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, networkModule, type DriverModuleExport } from '../../core';
import { NspawnDriver } from './nspawn-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: () =>
    new ContainerModule((options) => {
      const { bind } = options;
      // CNI networking (bridge mode): binds NetworkAttacher unless another driver did already.
      void networkModule().load(options);
      bind(NspawnDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(NspawnDriver);
    }),
};
