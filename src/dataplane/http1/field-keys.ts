// The lower-case key of a header name, for a headers object. A common name's key comes from the table below: a
// literal, so V8 holds it interned, and a keyed store or load with it finds the property without first hashing the
// key and looking it up in the string table, as it must for a string just lower-cased. A name is compared, by length
// and first character first, with the two spellings clients use (lower-case and capitalized words), so it is not
// hashed either; any other name, or spelling, is lower-cased.

export const COMMON_FIELDS: readonly string[] = [
  'accept',
  'accept-encoding',
  'accept-language',
  'age',
  'authorization',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'host',
  'keep-alive',
  'last-modified',
  'location',
  'origin',
  'proxy-authorization',
  'proxy-connection',
  'referer',
  'server',
  'set-cookie',
  'te',
  'traceparent',
  'tracestate',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-request-id',
];

/** By name length: each spelling of a common name of that length, then its key. */
const BY_LENGTH: string[][] = [];
for (const key of COMMON_FIELDS) {
  const capitalized = key.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  (BY_LENGTH[key.length] ??= []).push(key, key, capitalized, key);
}

/** name.toLowerCase(), interned for a common name. */
export function fieldKey(name: string): string {
  const spellings = BY_LENGTH[name.length];
  if (spellings !== undefined) {
    // The first characters compared before the names: most spellings of the same length differ there.
    const first = name.charCodeAt(0);
    for (let i = 0; i < spellings.length; i += 2) {
      const spelling = spellings[i]!;
      if (spelling.charCodeAt(0) === first && name === spelling) return spellings[i + 1]!;
    }
  }
  return name.toLowerCase();
}
