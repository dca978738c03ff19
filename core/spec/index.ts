export * from './oci-spec';
export * from './validate-spec';
export * from './load-bundle';
export * from './default-spec';
export * from './spec-builder';
export * from './capabilities';
export * from './berth-annotations';
export * from './network-annotations';
