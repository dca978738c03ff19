/** Driver entry: binds the native driver (berth's own runtime) for the registry. */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { NativeDriver } from './native-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: () =>
    new ContainerModule(({ bind }) => {
      bind(NativeDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(NativeDriver);
    }),
};
