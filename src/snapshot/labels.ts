import type { Labels } from '../model/index.js';

/** Kubernetes equality-based selection: every selector label is present with the same value. */
export function labelsMatch(selector: Labels, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
