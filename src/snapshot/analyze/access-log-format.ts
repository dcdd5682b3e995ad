import type { Diagnostic } from '../../model/index.js';
import { compileLogFormat } from '../../observability/index.js';
import { byNamespaceName } from '../mesh.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';

/**
 * meshConfig.accessLogFormat, checked with the encoding in force (the two may come from different IstioOperators)
 * and reported on the IstioOperator whose format is in force: the last one that sets it, in the order the mesh
 * config is layered. A format that does not compile is never sent; the proxies keep the default.
 */
export function analyzeAccessLogFormat(snapshot: Snapshot): Diagnostic[] {
  const { accessLogFormat: format, accessLogEncoding: encoding } = snapshot.mesh;
  if (format === '') return [];
  const owner = [...snapshot.byKind.IstioOperator]
    .sort(byNamespaceName)
    .filter((op) => op.spec.meshConfig.accessLogFormat !== undefined)
    .at(-1);
  if (!owner) return [];
  const field = 'spec.meshConfig.accessLogFormat';
  const compiled = compileLogFormat(format, encoding);
  if ('message' in compiled) {
    return [
      finding(
        'InvalidAccessLogFormat',
        owner,
        field,
        `accessLogFormat cannot be written with accessLogEncoding ${encoding}: ${compiled.message}`,
        'Fix the format. An apply that brings it is refused; in a file of the config directory, the proxies write the default format until it is fixed.',
      ),
    ];
  }
  if (compiled.unsupported.length === 0) return [];
  return [
    finding(
      'AccessLogFormatUnsupported',
      owner,
      field,
      `accessLogFormat uses ${compiled.unsupported.map((c) => `%${c}%`).join(', ')}, which tollgate writes as "-"`,
      'These read data tollgate does not keep (TLS peers, metadata, gRPC, stream timings); the rest of the line is written.',
    ),
  ];
}
