/**
 * The docker driver's DI module: berth loads it only when a drivers.json entry names it. Options
 * (`host` or `socketPath`) choose the engine; without them DOCKER_HOST, then /var/run/docker.sock.
 */
import { ContainerModule } from 'inversify';
import { ExecutionDriver, type DriverModuleExport } from '../../core';
import { DockerDriver, DockerDriverOptions } from './docker-driver';

export const berthDriver: DriverModuleExport = {
  apiVersion: 1,
  createModule: (options) =>
    new ContainerModule(({ bind }) => {
      bind<DockerDriverOptions>(DockerDriverOptions).toConstantValue(options);
      bind(DockerDriver).toSelf().inSingletonScope();
      bind<ExecutionDriver>(ExecutionDriver).toService(DockerDriver);
    }),
};
