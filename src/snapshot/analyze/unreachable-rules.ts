import type { Diagnostic, Resource } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { canonicalJson } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

interface Rule {
  readonly name?: string;
  readonly match: readonly object[];
}

/** "#2", or the http rule's quoted name, as istioctl names rules. */
function ruleLabel(rule: Rule, i: number): string {
  return rule.name ? `"${rule.name}"` : `#${i}`;
}

/**
 * IST0130 and IST0131, after Istio's analyzeUnreachable{HTTP,TLS,TCP}Rules (pkg/config/validation): rules are
 * tried in order, so a second rule without matches, any rule after a rule without matches, and a rule whose
 * every match repeats an earlier one are never used (IST0130); a single repeated match is ineffective (IST0131).
 * Matches compare by content with their `name` ignored. Istio's extra http check for URI prefixes covered by an
 * earlier prefix is not reproduced.
 */
export function analyzeUnreachableRules(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const vs of snapshot.byKind.VirtualService) {
    checkRules(out, vs, 'http', vs.spec.http);
    checkRules(out, vs, 'tls', vs.spec.tls);
    checkRules(out, vs, 'tcp', vs.spec.tcp);
  }
  return out;
}

function checkRules(out: Diagnostic[], vs: VirtualService, kind: 'http' | 'tls' | 'tcp', rules: readonly Rule[]): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  rules.forEach((rule, i) => {
    const field = `spec.${kind}[${i}]`;
    const label = ruleLabel(rule, i);
    if (catchAll >= 0) {
      const first = ruleLabel(rules[catchAll] ?? rule, catchAll);
      const [reason, hint] =
        rule.match.length === 0
          ? [
              'only the last rule can have no matches',
              `Give ${kind} rule ${first} or this one a match, or remove one of them.`,
            ]
          : [
              `${kind} rule ${first} before it has no matches and takes all traffic`,
              `Move this rule before ${kind} rule ${first}, or give that rule a match.`,
            ];
      out.push(
        finding(
          'VirtualServiceUnreachableRule',
          vs,
          field,
          `${kind} rule ${label} of VirtualService ${vs.meta.namespace}/${vs.meta.name} is never used: ${reason}.`,
          hint,
        ),
      );
      if (rule.match.length === 0) catchAll = i;
      return;
    }
    if (rule.match.length === 0) {
      catchAll = i;
      return;
    }
    let repeated = 0;
    rule.match.forEach((m, j) => {
      const key = canonicalJson({ ...m, name: undefined });
      const prior = seen.get(key);
      if (prior === undefined) {
        seen.set(key, i);
        return;
      }
      repeated++;
      const priorLabel = ruleLabel(rules[prior] ?? rule, prior);
      const matchLabel = 'name' in m && typeof m.name === 'string' && m.name ? `"${m.name}"` : `#${j}`;
      out.push(
        finding(
          'VirtualServiceIneffectiveMatch',
          vs,
          `${field}.match[${j}]`,
          `Match ${matchLabel} of ${kind} rule ${label} is never used: ${kind} rule ${priorLabel} has the same match and comes first.`,
          `Remove the repeated match, or make it differ from the one in ${kind} rule ${priorLabel}.`,
        ),
      );
    });
    if (repeated === rule.match.length) {
      out.push(
        finding(
          'VirtualServiceUnreachableRule',
          vs,
          field,
          `${kind} rule ${label} of VirtualService ${vs.meta.namespace}/${vs.meta.name} is never used: every one of its matches is taken by an earlier rule.`,
          'Remove the rule, or change its matches so that earlier rules do not take the same traffic.',
        ),
      );
    }
  });
}
