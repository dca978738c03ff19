export * from './cni-types';
export * from './cni-result';
export * from './cni-plugin-error';
export * from './cni-plugin-exec';
export * from './cni-executor';
