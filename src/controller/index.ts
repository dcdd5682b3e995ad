export * from './controller.js';
export * from './admin-server.js';
export { BODY_LIMITS, decodeParam, pathSegment } from './http-io.js';
export { ConfigDirectory } from './config-dir.js';
export { reportDiagnostics } from './diagnostics-reporter.js';
export { analyzeFiles, analysisOf, mergeOver, parseFiles } from './analysis.js';
export * from './credentials.js';
export { overCapacity, type ProxyCapacity, podKey } from './capacity.js';
