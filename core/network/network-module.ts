/**
 * DI wiring for networking. A driver that uses CNI networking loads `networkModule()` next to its
 * own bindings (it binds nothing already bound, so two drivers can both load it) and injects
 * `NetworkAttacher`; code without a container calls `createNetworkAttacher()`.
 */
import { ContainerModule } from 'inversify';
import { CniExecutor } from './cni/cni-executor';
import { NetworkOptions, networkOptionsFromEnv } from './network-options';
import { NetworkStore } from './network-store';
import { CniNetworkAttacher, NetworkAttacher } from './network-attacher';
import type { Logger } from '../logging/logger';

export function networkModule(options: NetworkOptions = networkOptionsFromEnv()): ContainerModule {
  return new ContainerModule(({ bind, isBound }) => {
    if (!isBound(NetworkOptions)) bind<NetworkOptions>(NetworkOptions).toConstantValue(options);
    if (!isBound(CniExecutor)) bind(CniExecutor).toDynamicValue((ctx) => new CniExecutor({ cniPath: ctx.get<NetworkOptions>(NetworkOptions).cniPath })).inSingletonScope();
    if (!isBound(NetworkStore)) bind(NetworkStore).toSelf().inSingletonScope();
    if (!isBound(NetworkAttacher)) bind<NetworkAttacher>(NetworkAttacher).to(CniNetworkAttacher).inSingletonScope();
  });
}

/** The attacher and its store without a DI container. */
export function createNetworkAttacher(options: NetworkOptions = networkOptionsFromEnv(), log?: Logger): { attacher: NetworkAttacher; store: NetworkStore; executor: CniExecutor } {
  const store = new NetworkStore(options);
  const executor = new CniExecutor({ cniPath: options.cniPath });
  return { attacher: new CniNetworkAttacher(store, executor, log), store, executor };
}
