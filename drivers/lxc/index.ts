/**
 * The LXC driver's DI module: berth loads it because drivers.json names it, and reads `berthDriver`.
 * drivers.json options: `lxcpath` (LXC's -P folder, default /var/lib/berth/lxc), `helper` (path of
 * berth-lxc-helper, default: the one built next to this module).
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { LxcDriver, LxcDriverOptions } from './lxc-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: (options) =>
    new ContainerModule(({ bind }) => {
      const lxcpath = typeof options.lxcpath === 'string' ? options.lxcpath : undefined;
      const helper = typeof options.helper === 'string' ? options.helper : undefined;
      bind<LxcDriverOptions>(LxcDriverOptions).toConstantValue({ ...(lxcpath ? { lxcpath } : {}), ...(helper ? { helper } : {}) });
      bind(LxcDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(LxcDriver);
    }),
};
