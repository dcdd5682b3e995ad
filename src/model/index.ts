export * from './resources.js';
export * from './diagnostics.js';
