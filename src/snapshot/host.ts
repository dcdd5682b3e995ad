// Host name semantics of Istio's pkg/config/host/name.go: a leading "*." label is a suffix wildcard, "*" alone
// matches everything. "*.foo.com" matches "a.foo.com" and "a.b.foo.com" but not "foo.com"; "*.com" matches
// "foo.com". Hosts are lower-cased by ingest, so comparisons here are plain string operations.

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*');
}

/** True when the concrete or wildcard `host` is covered by `pattern` (every name `host` stands for matches). */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (!isWildcardHost(pattern)) return pattern === host;
  const suffix = pattern.slice(1); // ".foo.com"
  if (isWildcardHost(host)) return host === '*' ? false : host.slice(1).endsWith(suffix);
  return host.length > suffix.length && host.endsWith(suffix);
}

/** True when some name is matched by both: Istio's `Name.Matches` used between VirtualService and Gateway hosts. */
export function hostsIntersect(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}

/** The narrower of two intersecting hosts (the names both match), or undefined when they do not intersect. */
export function hostIntersection(a: string, b: string): string | undefined {
  if (hostCovers(a, b)) return b;
  if (hostCovers(b, a)) return a;
  return undefined;
}

/**
 * The wildcard hosts that could cover `host`, most specific first: "a.b.com" -> "*.b.com", "*.com", "*".
 * Lets a map keyed by wildcard host be probed in O(labels) instead of scanning every wildcard.
 */
export function coveringWildcards(host: string): string[] {
  const out: string[] = [];
  let rest = isWildcardHost(host) ? host.slice(2) : host;
  if (isWildcardHost(host) && rest !== '') out.push(host);
  let dot = rest.indexOf('.');
  while (dot >= 0) {
    rest = rest.slice(dot + 1);
    if (rest !== '') out.push(`*.${rest}`);
    dot = rest.indexOf('.');
  }
  if (host !== '*') out.push('*');
  return out;
}

/** A host lookup structure: exact names in a Map, wildcards probed by suffix. */
export class HostMap<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly wildcard = new Map<string, T[]>();

  add(host: string, value: T): void {
    const map = isWildcardHost(host) ? this.wildcard : this.exact;
    const list = map.get(host);
    if (list) list.push(value);
    else map.set(host, [value]);
  }

  /** Values registered under exactly this host string. */
  get(host: string): readonly T[] {
    return (isWildcardHost(host) ? this.wildcard : this.exact).get(host) ?? [];
  }

  /** Values whose host covers `host`: exact first, then wildcards from most to least specific. */
  matching(host: string): readonly T[] {
    const out: T[] = [...this.get(host)];
    for (const w of coveringWildcards(host)) {
      if (w === host) continue;
      const list = this.wildcard.get(w);
      if (list) out.push(...list);
    }
    return out;
  }

  hosts(): string[] {
    return [...this.exact.keys(), ...this.wildcard.keys()];
  }
}
