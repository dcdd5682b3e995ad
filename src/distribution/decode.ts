// Small typed decoders for JSON that arrives on a socket (the discovery protocol, ACKs, the admin API). Each one
// returns a value of its type or throws a DecodeError that names the field and what was wrong, so that a handler
// never touches a property of unchecked input (no `as` casts on what a peer sent).

export class DecodeError extends Error {}

export type Decoder<T> = (value: unknown, path: string) => T;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new DecodeError(`${path || 'the body'}: expected ${expected}, got ${describe(value)}`);
}

export const string =
  (opts: { maxLength?: number; pattern?: RegExp; expected?: string } = {}): Decoder<string> =>
  (value, path) => {
    const expected = opts.expected ?? 'a string';
    if (typeof value !== 'string') fail(path, expected, value);
    if (opts.maxLength !== undefined && value.length > opts.maxLength)
      throw new DecodeError(`${path}: longer than ${opts.maxLength} characters`);
    if (opts.pattern && !opts.pattern.test(value)) fail(path, expected, value);
    return value;
  };

export const boolean: Decoder<boolean> = (value, path) =>
  typeof value === 'boolean' ? value : fail(path, 'true or false', value);

export const integer =
  (min: number, max: number): Decoder<number> =>
  (value, path) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? value
      : fail(path, `an integer from ${min} to ${max}`, value);

export const oneOf =
  <const V extends string>(values: readonly V[]): Decoder<V> =>
  (value, path) =>
    typeof value === 'string' && (values as readonly string[]).includes(value)
      ? (value as V)
      : fail(path, `one of ${values.join(', ')}`, value);

export const optional =
  <T>(decoder: Decoder<T>): Decoder<T | undefined> =>
  (value, path) =>
    value === undefined ? undefined : decoder(value, path);

export const array =
  <T>(item: Decoder<T>, maxItems = 10_000): Decoder<T[]> =>
  (value, path) => {
    if (!Array.isArray(value)) fail(path, 'a list', value);
    if (value.length > maxItems) throw new DecodeError(`${path}: more than ${maxItems} items`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };

export const record =
  <T>(item: Decoder<T>, maxEntries = 1_000): Decoder<Record<string, T>> =>
  (value, path) => {
    if (!isObject(value)) fail(path, 'an object', value);
    const entries = Object.entries(value);
    if (entries.length > maxEntries) throw new DecodeError(`${path}: more than ${maxEntries} entries`);
    const out: Record<string, T> = {};
    for (const [k, v] of entries) Object.defineProperty(out, k, { value: item(v, `${path}.${k}`), enumerable: true });
    return out;
  };

type Shape = Record<string, Decoder<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with these fields; fields it does not name are ignored, as a newer peer may send more. */
export const object =
  <S extends Shape>(shape: S): Decoder<FromShape<S>> =>
  (value, path) => {
    if (!isObject(value)) fail(path, 'an object', value);
    const out: Record<string, unknown> = {};
    for (const [key, decoder] of Object.entries(shape)) {
      const v = decoder(Object.hasOwn(value, key) ? value[key] : undefined, path === '' ? key : `${path}.${key}`);
      if (v !== undefined) out[key] = v;
    }
    return out as FromShape<S>;
  };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text and decodes it; every failure is a DecodeError with a message fit for the peer. */
export function decodeJson<T>(decoder: Decoder<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = text.length === 0 ? {} : JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`malformed JSON in ${what}: ${(err as Error).message}`);
  }
  return decoder(value, '');
}
