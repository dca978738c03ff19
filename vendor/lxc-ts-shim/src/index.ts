/** lxc-ts-shim: typed LXC config rendering and LXC tool wrappers. Knows LXC, nothing of OCI. */
export * from './config-options';
export * from './config-escape';
export * from './cgroup-keys';
export * from './cgroup-version';
export * from './cgroup-processes';
export * from './render-config';
export * from './parse-info';
export * from './run-tool';
export * from './lxc-tools';
export * from './lxc-error';
export * from './seccomp-policy';
