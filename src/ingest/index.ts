export { parseYaml, type IngestResult } from './parse-yaml.js';
export { parseDuration } from './duration.js';
export { qualifyHost, normalizeGatewayRef } from './kinds/common.js';
export { DEFAULT_EGRESS_LABELS, DEFAULT_EGRESS_PORTS } from './kinds/index.js';
export * as schema from './schema.js';
