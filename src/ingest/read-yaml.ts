// Reading YAML text into documents in bounded time and memory. Config arrives from users and from anyone who can
// write to the config directory, so every cost that grows faster than the text is capped before it is paid:
//
// - size and document count: checked before and while parsing;
// - nesting depth: checked on the parser's own stack as tokens arrive, before the composer (which recurses, and
//   whose stack overflow can take the whole process down inside V8) ever sees a deep document;
// - duplicate map keys: the `yaml` package compares each key with every earlier one (quadratic), so its check is
//   off and keys are checked here with one Set per map;
// - aliases: `Alias.resolve(doc)` walks the whole document on every call, and a decoder that follows aliases walks
//   every expanded copy (a 1 KB document can expand to millions of nodes). Each document is measured once here:
//   aliases are counted, mapped to their anchors in one pass, and the nodes they add are summed (memoized per
//   anchor), so the decoder later follows them with a map lookup and never walks more than the limits allow.
import {
  type Alias,
  Composer,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
} from 'yaml';

export interface YamlLimits {
  readonly maxBytes: number;
  readonly maxDocuments: number;
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxAliasExpansion: number;
}

export const YAML_LIMITS: YamlLimits = {
  /** Bytes of one file (10,000 ServiceEntries take about 2 MB). */
  maxBytes: 8 * 1024 * 1024,
  maxDocuments: 50_000,
  /** Nesting of maps and lists, counting what aliases bring in (Istio resources stay under 15). */
  maxDepth: 64,
  /** Alias nodes (`*name`) in one document. */
  maxAliases: 1_000,
  /** Nodes that aliases add to one document once expanded. */
  maxAliasExpansion: 10_000,
};

export interface YamlProblem {
  readonly message: string;
  /** Offset in the text, for the line and column. */
  readonly offset: number;
  readonly hint: string;
  /** A limit (the text is refused in bounded time), or malformed YAML the parser let through. */
  readonly kind: 'limit' | 'syntax';
}

export interface YamlDocument {
  readonly doc: Document.Parsed;
  /** Each alias node of the document, mapped to the node it stands for. */
  readonly aliases: ReadonlyMap<Alias, unknown>;
}

export interface YamlRead {
  readonly lineCounter: LineCounter;
  /** The documents that passed every check, in order. */
  readonly documents: YamlDocument[];
  /** Documents refused whole (syntax errors are on `errors` of the documents themselves). */
  readonly problems: YamlProblem[];
  /** Syntax errors of refused documents and of the stream outside documents. */
  readonly errors: Document.Parsed['errors'];
}

class Refused extends Error {
  constructor(readonly problem: YamlProblem) {
    super(problem.message);
  }
}

const LIMIT_HINT = 'tollgate refuses YAML this large or this nested so that one file cannot stall the controller';

/** Parses `text` as a YAML stream within YAML_LIMITS. Never throws; a file over a stream limit yields no document. */
export function readYaml(text: string, limits: YamlLimits = YAML_LIMITS): YamlRead {
  const lineCounter = new LineCounter();
  const documents: YamlDocument[] = [];
  const problems: YamlProblem[] = [];
  const errors: Document.Parsed['errors'] = [];
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    problems.push({
      kind: 'limit',
      message: `the file is ${bytes} bytes, over the limit of ${limits.maxBytes}`,
      offset: 0,
      hint: 'split it into several files',
    });
    return { lineCounter, documents, problems, errors };
  }
  const composer = new Composer({ uniqueKeys: false });
  const parsed: Document.Parsed[] = [];
  try {
    const parser = new Parser(lineCounter.addNewLine);
    lineCounter.addNewLine(0);
    const take = (tokens: Iterable<Parameters<Composer['next']>[0]>): void => {
      for (const token of tokens) {
        for (const doc of composer.next(token)) {
          parsed.push(doc);
          if (parsed.length > limits.maxDocuments) {
            throw new Refused({
              kind: 'limit',
              message: `more than ${limits.maxDocuments} documents in one file`,
              offset: doc.range[0],
              hint: 'split it into several files',
            });
          }
        }
      }
    };
    for (const lexeme of new Lexer().lex(text)) {
      take(parser.next(lexeme));
      // The parser keeps one stack entry per open collection (plus the document and the current token).
      if (parser.stack.length > limits.maxDepth + 2) {
        throw new Refused({
          kind: 'limit',
          message: `maps and lists nested deeper than ${limits.maxDepth} levels`,
          offset: parser.offset,
          hint: LIMIT_HINT,
        });
      }
    }
    take(parser.end());
    for (const doc of composer.end(false, text.length)) parsed.push(doc);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    problems.push(err.problem);
    return { lineCounter, documents: [], problems, errors };
  }
  errors.push(...composer.streamInfo().errors);
  for (const doc of parsed) {
    const measured = measure(doc, limits);
    if ('problem' in measured) {
      problems.push(measured.problem);
      continue;
    }
    documents.push({ doc, aliases: measured.aliases });
  }
  return { lineCounter, documents, problems, errors };
}

interface Measure {
  readonly size: number;
  readonly height: number;
}

/**
 * One pass over a document in document order: anchors are bound as they appear (a later anchor of the same name
 * shadows an earlier one, as YAML says), each alias is mapped to its node, and the expansion it adds is summed.
 */
function measure(
  doc: Document.Parsed,
  limits: YamlLimits,
): { aliases: Map<Alias, unknown> } | { problem: YamlProblem } {
  const anchors = new Map<string, unknown>();
  const aliases = new Map<Alias, unknown>();
  const measured = new Map<unknown, Measure>();
  const open = new Set<unknown>();
  let aliasCount = 0;
  let expansion = 0;
  const at = (node: unknown): number => (node as { range?: [number] } | null)?.range?.[0] ?? doc.range[0];
  const refuse = (node: unknown, message: string, kind: YamlProblem['kind'] = 'limit', hint = LIMIT_HINT): never => {
    throw new Refused({ kind, message, offset: at(node), hint });
  };

  const visit = (node: unknown, depth: number): Measure => {
    if (node === null || node === undefined) return { size: 0, height: 0 };
    if (depth > limits.maxDepth) refuse(node, `maps and lists nested deeper than ${limits.maxDepth} levels`);
    if (isAlias(node)) {
      aliasCount += 1;
      if (aliasCount > limits.maxAliases) refuse(node, `more than ${limits.maxAliases} aliases in one document`);
      const target = anchors.get(node.source);
      if (target === undefined)
        refuse(
          node,
          `alias *${node.source} has no anchor &${node.source} before it`,
          'syntax',
          'define the anchor first',
        );
      if (open.has(target))
        refuse(
          node,
          `alias *${node.source} refers to a node that contains it`,
          'syntax',
          'an alias cannot repeat its own parent',
        );
      const m = measured.get(target)!;
      expansion += m.size;
      if (expansion > limits.maxAliasExpansion)
        refuse(node, `aliases expand this document by more than ${limits.maxAliasExpansion} nodes`);
      if (depth + m.height > limits.maxDepth)
        refuse(node, `alias *${node.source} nests maps and lists deeper than ${limits.maxDepth} levels`);
      aliases.set(node, target);
      return m;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node);
    let m: Measure = { size: 1, height: 0 };
    if (isMap(node) || isSeq(node)) {
      open.add(node);
      const keys = isMap(node) ? new Set<string>() : undefined;
      let size = 1;
      let height = 0;
      for (const item of node.items) {
        const children = isPair(item) ? [item.key, item.value] : [item];
        if (keys && isPair(item) && isScalar(item.key)) {
          const key = `${typeof item.key.value}:${String(item.key.value)}`;
          if (keys.has(key)) refuse(item.key, 'map keys must be unique', 'syntax', 'remove or rename the repeated key');
          keys.add(key);
        }
        for (const child of children) {
          const c = visit(child, depth + 1);
          size += c.size;
          height = Math.max(height, c.height + 1);
        }
      }
      open.delete(node);
      m = { size, height };
    }
    measured.set(node, m);
    return m;
  };

  try {
    visit(doc.contents, 0);
  } catch (err) {
    if (err instanceof Refused) return { problem: err.problem };
    throw err;
  }
  return { aliases };
}
