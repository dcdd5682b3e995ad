export { DataPlane } from './data-plane.js';
export type { ApplyResult, DataPlaneOptions } from './data-plane.js';
export { dnsServerResolver, systemResolver } from './resolver.js';
export type { HostResolver } from './resolver.js';
export { applyConnectTo, parseConnectTo } from './connect-to.js';
export type { ConnectToRule } from './connect-to.js';
export { ERROR_CATALOG, ProxyError, ConfigError } from './errors.js';
export type { ErrorSource, ErrorSpec, ProxyErrorCode } from './errors.js';
export type { AccessLogRecord } from '../observability/index.js';
