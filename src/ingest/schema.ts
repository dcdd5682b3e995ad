import { isMap, isScalar, isSeq, type Pair } from 'yaml';
import { childPath, type DecodeContext, setOwn } from './decode-context.js';
import { parseDuration } from './duration.js';
import { suggest } from './suggest.js';

// A small schema-first decoder. Each schema decodes a YAML AST node (so every value keeps its line and column)
// into a typed value of the EXTERNAL shape; `Infer<typeof schema>` is that shape's TypeScript type, so the
// external types are never written by hand. Decoding never throws: it reports into the DecodeContext and
// returns INVALID for values it could not decode, letting the caller keep going and report every problem.

export const INVALID: unique symbol = Symbol('invalid');
export type Decoded<T> = T | typeof INVALID;

export interface Schema<T> {
  /** How the expected value is described in messages: "a string", "an integer", "one of HTTP, TCP". */
  readonly expected: string;
  decode(node: unknown, ctx: DecodeContext, path: string): Decoded<T>;
}

export interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferShape<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Decodes a node after recording its position under `path`: every visited value gets a position. */
export function decodeAt<T>(schema: Schema<T>, node: unknown, ctx: DecodeContext, path: string): Decoded<T> {
  const resolved = ctx.resolve(node);
  ctx.record(path, resolved);
  return schema.decode(resolved, ctx, path);
}

function describe(node: unknown): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return 'nothing';
}

function typeError(ctx: DecodeContext, node: unknown, path: string, expected: string): typeof INVALID {
  ctx.report('InvalidType', node, path, `expected ${expected}, got ${describe(node)}`);
  return INVALID;
}

export function isNullNode(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && (node.value === null || node.value === undefined));
}

function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

export function string(): Schema<string> {
  return {
    expected: 'a string',
    decode(node, ctx, path) {
      const v = scalarValue(node);
      return typeof v === 'string' ? v : typeError(ctx, node, path, 'a string');
    },
  };
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  return {
    expected: 'an integer',
    decode(node, ctx, path) {
      const v = scalarValue(node);
      if (typeof v !== 'number' || !Number.isInteger(v)) return typeError(ctx, node, path, 'an integer');
      if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
        ctx.report('InvalidType', node, path, `${v} is out of range ${opts.min ?? '-∞'}..${opts.max ?? '∞'}`);
        return INVALID;
      }
      return v;
    },
  };
}

export function number(): Schema<number> {
  return {
    expected: 'a number',
    decode(node, ctx, path) {
      const v = scalarValue(node);
      return typeof v === 'number' && Number.isFinite(v) ? v : typeError(ctx, node, path, 'a number');
    },
  };
}

export function bool(): Schema<boolean> {
  return {
    expected: 'true or false',
    decode(node, ctx, path) {
      const v = scalarValue(node);
      return typeof v === 'boolean' ? v : typeError(ctx, node, path, 'true or false');
    },
  };
}

/**
 * One of a fixed set of strings. With `caseInsensitive` (as Istio parses port protocols) the input is matched
 * ignoring case and the canonical (upper-case) spelling is returned.
 */
export function enumOf<const V extends string>(
  values: readonly V[],
  opts: { caseInsensitive?: boolean } = {},
): Schema<V> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected,
    decode(node, ctx, path) {
      const v = scalarValue(node);
      if (typeof v !== 'string') return typeError(ctx, node, path, expected);
      const found = opts.caseInsensitive
        ? values.find((c) => c.toUpperCase() === v.toUpperCase())
        : values.find((c) => c === v);
      if (found !== undefined) return found;
      const close = suggest(v, values);
      ctx.report(
        'InvalidEnumValue',
        node,
        path,
        `${JSON.stringify(v)} is not ${expected}`,
        close ? `did you mean \`${close}\`?` : undefined,
      );
      return INVALID;
    },
  };
}

/** A duration string ("3s", "100ms", "1m", "1.5s", "1h"), decoded to milliseconds. */
export function duration(): Schema<number> {
  return {
    expected: 'a duration such as "3s" or "100ms"',
    decode(node, ctx, path) {
      const v = scalarValue(node);
      if (typeof v !== 'string') return typeError(ctx, node, path, 'a duration string such as "3s"');
      const parsed = parseDuration(v);
      if ('error' in parsed) {
        ctx.report(
          'InvalidDuration',
          node,
          path,
          parsed.error,
          'write a number followed by ms, s, m or h, e.g. "1.5s"',
        );
        return INVALID;
      }
      return parsed.ms;
    },
  };
}

/** Accepts any value and returns it as plain data; for real-world fields that do not matter to tollgate. */
export function anything(): Schema<unknown> {
  return {
    expected: 'any value',
    decode(node, ctx) {
      return ctx.plain(node);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Containers

export function optional<T>(schema: Schema<T>): OptionalSchema<T> {
  return { ...schema, optional: true, decode: schema.decode.bind(schema) };
}

export function array<T>(item: Schema<T>): Schema<T[]> {
  return {
    expected: `a list of ${item.expected.replace(/^an? /, '')}`,
    decode(node, ctx, path) {
      if (!isSeq(node)) return typeError(ctx, node, path, 'a list');
      const out: T[] = [];
      let ok = true;
      node.items.forEach((child, i) => {
        const v = decodeAt(item, child, ctx, childPath(path, i));
        if (v === INVALID) ok = false;
        else out.push(v);
      });
      // One bad element invalidates the list: indices in the model must match the YAML's.
      return ok ? out : INVALID;
    },
  };
}

/** A map with string keys (labels, headers, endpoint ports). */
export function map<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    expected: 'a map',
    decode(node, ctx, path) {
      if (!isMap(node)) return typeError(ctx, node, path, 'a map');
      const out: Record<string, T> = {};
      let ok = true;
      for (const pair of node.items) {
        const key = scalarValue(ctx.resolve(pair.key));
        if (typeof key !== 'string' && typeof key !== 'number') {
          typeError(ctx, pair.key, path, 'a string key');
          ok = false;
          continue;
        }
        const v = decodeAt(value, pair.value, ctx, childPath(path, String(key)));
        if (v === INVALID) ok = false;
        else setOwn(out, String(key), v);
      }
      return ok ? out : INVALID;
    },
  };
}

export interface ObjectOptions {
  /** 'warn' (Istio kinds: a typo is a silent misconfiguration) or 'ignore' (Kubernetes objects have hundreds). */
  readonly unknown?: 'warn' | 'ignore';
}

function pairKey(ctx: DecodeContext, pair: Pair): string | undefined {
  const k = scalarValue(ctx.resolve(pair.key));
  return typeof k === 'string' ? k : typeof k === 'number' ? String(k) : undefined;
}

export function object<S extends Shape>(shape: S, opts: ObjectOptions = {}): Schema<InferShape<S>> {
  const keys = Object.keys(shape);
  return {
    expected: 'a map',
    decode(node, ctx, path) {
      if (isNullNode(node)) node = undefined;
      else if (!isMap(node)) return typeError(ctx, node, path, 'a map');
      const present = new Map<string, Pair>();
      for (const pair of isMap(node) ? node.items : []) {
        const key = pairKey(ctx, pair);
        if (key === undefined) continue;
        if (Object.hasOwn(shape, key)) {
          present.set(key, pair);
        } else if (opts.unknown !== 'ignore') {
          const close = suggest(key, keys);
          ctx.report(
            'UnknownField',
            pair.key,
            childPath(path, key),
            `unknown field \`${key}\`${close ? `, did you mean \`${close}\`?` : ''}`,
            close ? `rename it to \`${close}\`` : `remove it; known fields here: ${keys.join(', ')}`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      let ok = true;
      let requiredOk = true;
      for (const key of keys) {
        const schema = shape[key]!;
        const pair = present.get(key);
        const fieldPath = childPath(path, key);
        if (!pair || isNullNode(ctx.resolve(pair.value))) {
          if (!('optional' in schema)) {
            ctx.report(
              'MissingField',
              pair?.value ?? node ?? null,
              fieldPath,
              `missing required field \`${key}\` (${schema.expected})`,
            );
            ok = requiredOk = false;
          }
          continue;
        }
        const v = decodeAt(schema, pair.value, ctx, fieldPath);
        if (v === INVALID) {
          ok = false;
          if (!('optional' in schema)) requiredOk = false;
        } else out[key] = v;
      }
      if (ok || (requiredOk && ctx.partialAt === path)) return out as InferShape<S>;
      return INVALID;
    },
  };
}

type OneOfResult<S extends Shape> = { [K in keyof S]: { [P in K]: Infer<S[K]> } }[keyof S];

/** Exactly one of the keys is set (protobuf `oneof`), e.g. StringMatch {exact | prefix | regex}. */
export function oneOf<S extends Shape>(shape: S): Schema<OneOfResult<S>> {
  const keys = Object.keys(shape);
  const inner = object(Object.fromEntries(keys.map((k) => [k, optional(shape[k]!)])) as Shape);
  const expected = `a map with exactly one of ${keys.join(', ')}`;
  return {
    expected,
    decode(node, ctx, path) {
      if (!isMap(node)) return typeError(ctx, node, path, expected);
      const v = inner.decode(node, ctx, path);
      if (v === INVALID) return INVALID;
      const set = keys.filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      if (set.length !== 1) {
        ctx.report(
          set.length === 0 ? 'MissingField' : 'ConflictingFields',
          node,
          path,
          set.length === 0 ? `expected one of ${keys.join(', ')}` : `only one of ${set.join(', ')} may be set`,
        );
        return INVALID;
      }
      return v as OneOfResult<S>;
    },
  };
}

/**
 * The first alternative that decodes cleanly wins (e.g. a Kubernetes targetPort: number or port name).
 * Alternatives are tried against a scratch context so failed attempts leave no diagnostics behind.
 */
export function union<const A extends readonly Schema<unknown>[]>(alternatives: A): Schema<Infer<A[number]>> {
  const expected = alternatives.map((a) => a.expected).join(' or ');
  return {
    expected,
    decode(node, ctx, path) {
      for (const alt of alternatives) {
        const scratch = ctx.scratch();
        const v = alt.decode(node, scratch, path);
        if (v !== INVALID && !scratch.hasErrors()) {
          ctx.absorb(scratch);
          return v as Infer<A[number]>;
        }
      }
      return typeError(ctx, node, path, expected);
    },
  };
}

/** Post-processes a decoded value; `check` may report and return INVALID. */
export function refine<T, U>(
  schema: Schema<T>,
  check: (v: T, ctx: DecodeContext, node: unknown, path: string) => Decoded<U>,
): Schema<U> {
  return {
    expected: schema.expected,
    decode(node, ctx, path) {
      const v = schema.decode(node, ctx, path);
      return v === INVALID ? INVALID : check(v, ctx, node, path);
    },
  };
}
