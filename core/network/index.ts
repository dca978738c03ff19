/** berth networking: the CNI executor, the network folder and the attacher drivers call. */
export * from './cni';
export * from './ipv4-cidr';
export * from './bridge-network';
export * from './named-netns';
export * from './network-options';
export * from './network-store';
export * from './network-attachment';
export * from './network-attacher';
export * from './network-module';
export * from './container-network';
