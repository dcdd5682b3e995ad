export {
  ACCESS_LOG_FIELDS,
  UNSET,
  formatAccessLog,
  formatAccessLogJson,
  formatAccessLogText,
  formatStartTime,
} from './access-log.js';
export type { AccessLogEncoding, AccessLogField, AccessLogRecord, NumericAccessLogField } from './access-log.js';
export { compileLogFormat } from './log-format.js';
export type { CompiledFormat, FormatProblem, LineFormat, LogHeaders } from './log-format.js';
export { RESPONSE_FLAGS, formatResponseFlags } from './response-flags.js';
export type { ResponseFlag } from './response-flags.js';
