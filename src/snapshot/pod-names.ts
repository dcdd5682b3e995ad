// Pod names as a Deployment's ReplicaSet makes them: "<deployment>-<pod-template-hash>-<suffix>". The template hash
// changes when the pod template does (labels, service account), so a changed template means new pods, as a
// rollout does. Kubernetes draws the suffix at random; here it is a function of the template hash and the
// replica's ordinal, so that names are the same on every controller and across restarts, and scaling down removes
// the highest ordinals first.
import type { Labels } from '../model/index.js';

/** The characters Kubernetes uses in generated names (no vowels, no look-alikes). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits: the hash family Kubernetes uses for pod-template-hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Each character of `text` mapped into ALPHABET (Kubernetes' SafeEncodeString). */
function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHABET[text.charCodeAt(i) % ALPHABET.length];
  return out;
}

export function podTemplateHash(template: { readonly labels: Labels; readonly serviceAccount: string }): string {
  const labels = Object.entries(template.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return safeEncode(String(fnv1a(JSON.stringify([labels, template.serviceAccount]))));
}

/** The pods of `replicas` replicas: ordinal i always has the same name for the same template. */
export function podNames(
  name: string,
  template: { readonly labels: Labels; readonly serviceAccount: string },
  replicas: number,
): string[] {
  const hash = podTemplateHash(template);
  const pods: string[] = [];
  for (let i = 0; i < replicas; i++) {
    let h = fnv1a(`${hash}/${i}`);
    let suffix = '';
    for (let c = 0; c < 5; c++) {
      suffix += ALPHABET[h % ALPHABET.length];
      h = Math.floor(h / ALPHABET.length);
    }
    pods.push(`${name}-${hash}-${suffix}`);
  }
  return pods;
}
