export * from './berth-error';
export * from './spec-invalid-error';
export * from './feature-not-supported-error';
export * from './operation-not-supported-error';
export * from './backend-command-error';
export * from './container-state-error';
