import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { analyzeBindings } from './bindings.js';
import { analyzeGateways } from './gateways.js';
import { analyzeVirtualServiceRefs } from './virtual-service-refs.js';

export { ANALYZER_CODES, type AnalyzerCodeName } from './codes.js';

const ANALYZERS: readonly ((s: Snapshot) => Diagnostic[])[] = [analyzeVirtualServiceRefs, analyzeGateways, analyzeBindings];

/** Cross-resource findings over a whole snapshot, in analyzer order then resource order. */
export function analyze(snapshot: Snapshot): Diagnostic[] {
  return ANALYZERS.flatMap((a) => a(snapshot));
}
