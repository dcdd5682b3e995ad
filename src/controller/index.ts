export * from './controller.js';
export * from './admin-server.js';
export { ConfigDirectory } from './config-dir.js';
export { reportDiagnostics } from './diagnostics-reporter.js';
export { analyzeFiles, analysisOf, mergeOver, parseFiles } from './analysis.js';
