export * from './protocol.js';
export * from './discovery-client.js';
export * from './decode.js';
export * from './admin-api.js';
