// Path normalization before routing and policy (Istio's meshConfig.pathNormalization, Envoy's normalize_path,
// merge_slashes and path_with_escaped_slashes_action). Without it `/public/../admin` or `/public/%2e%2e/admin`
// matches a route for `/public/` and reaches `/admin` upstream. The normalized path is what is routed, forwarded
// and logged, as Envoy replaces :path.
import type { PathNormalization } from '../proxy-config/types.js';

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * BASE (Istio's default): RFC 3986 §6.2.2 — percent-encoded unreserved characters decoded (so `%2e` is a dot and
 * `%61` an `a`), backslashes as slashes (as browsers and Envoy's canonicalizer treat them in http paths), dot
 * segments removed without climbing above the root. MERGE_SLASHES also merges runs of slashes; DECODE_AND_MERGE_SLASHES
 * also decodes escaped slashes (`%2F`, `%5C`) first. NONE leaves the path alone. Undefined: the path cannot be
 * normalized (a malformed escape): the request is refused (400).
 */
export function compilePathNormalizer(mode: PathNormalization): (path: string) => string | undefined {
  if (mode === 'NONE') return (path) => path;
  const merge = mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES';
  const decodeSlashes = mode === 'DECODE_AND_MERGE_SLASHES';
  return (path) => normalize(path, merge, decodeSlashes);
}

function normalize(path: string, merge: boolean, decodeSlashes: boolean): string | undefined {
  // The common case, a path with nothing to normalize, allocates nothing.
  if (!/[%\\.]|\/\//.test(path)) return path;
  let text = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\') {
      text += '/';
      continue;
    }
    if (c !== '%') {
      text += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    if (UNRESERVED.test(ch)) text += ch;
    else if (decodeSlashes && (ch === '/' || ch === '\\')) text += '/';
    // Other escapes stay escaped, their hex digits in upper case (RFC 3986 §6.2.2.1).
    else text += `%${hex.toUpperCase()}`;
    i += 2;
  }
  if (merge) text = text.replace(/\/{2,}/g, '/');
  return removeDotSegments(text);
}

/** RFC 3986 §5.2.4, with `..` at the root staying at the root. */
function removeDotSegments(path: string): string {
  if (!path.startsWith('/')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      // A trailing dot segment leaves the directory: "/a/b/.." is "/a/".
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}
