export * from './local-mesh.js';
export * from './pod-addresses.js';
export * from './proxy-runner.js';
export * from './proxy-admin.js';
