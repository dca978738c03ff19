/**
 * Driver entry: berth loads this module when drivers.json names it and reads `berthDriver`.
 * Options (drivers.json): `uri`, the libvirt connection (default lxc:///system).
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { LibvirtDriver } from './libvirt-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: () =>
    new ContainerModule(({ bind }) => {
      bind(LibvirtDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(LibvirtDriver);
    }),
};
