import type { AnyResource, Diagnostic } from '../model/index.js';
import { validateDestinationRule } from './destination-rule.js';
import { Findings } from './findings.js';
import { validateGateway } from './gateway.js';
import { checkMetadata } from './metadata.js';
import { validateServiceEntry } from './service-entry.js';
import { validateSidecar } from './sidecar.js';
import { validateVirtualService } from './virtual-service.js';
import { validateDeployment, validateIstioGateway, validateIstioOperator, validateKubeService } from './workloads.js';

function assertNever(x: never): never {
  throw new Error(`unhandled kind ${JSON.stringify(x)}`);
}

/**
 * Per-resource checks: everything that can be decided from one resource alone. Cross-resource findings
 * (references, conflicts between resources) belong to the analyzers. Never throws.
 */
export function validateResource(r: AnyResource): Diagnostic[] {
  const f = new Findings(r);
  checkMetadata(r, f);
  switch (r.kind) {
    case 'ServiceEntry':
      validateServiceEntry(r, f);
      break;
    case 'Gateway':
      validateGateway(r, f);
      break;
    case 'VirtualService':
      validateVirtualService(r, f);
      break;
    case 'DestinationRule':
      validateDestinationRule(r, f);
      break;
    case 'Sidecar':
      validateSidecar(r, f);
      break;
    case 'IstioOperator':
      validateIstioOperator(r, f);
      break;
    case 'IstioGateway':
      validateIstioGateway(r, f);
      break;
    case 'Service':
      validateKubeService(r, f);
      break;
    case 'Deployment':
      validateDeployment(r, f);
      break;
    case 'ServiceAccount':
      break;
    default:
      assertNever(r);
  }
  return f.list;
}
