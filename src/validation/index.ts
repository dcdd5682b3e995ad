export { validateResource } from './validate-resource.js';
export { CODES, makeDiagnostic, type CodeInfo, type CodeName, type DiagnosticFields } from './codes.js';
