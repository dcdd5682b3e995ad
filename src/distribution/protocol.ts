// The config-distribution protocol between the controller and its proxies, over plain HTTP/1.1:
//
//   POST /v1/discovery          body: DiscoveryRequest (the proxy's identity)
//                               response: a never-ending NDJSON stream of ServerMessage, one per line
//   POST /v1/discovery/ack      body: AckRequest, once per config received (ACK, or NACK with the reason)
//   POST /v1/discovery/drain    body: DrainRequest; the proxy is going away. The controller takes it out of every
//                               Service's endpoints at once and answers once every other proxy has acknowledged
//                               that (DrainResponse), so the proxy can then close its connections safely.
//
// Both need the proxy credential (`Authorization: Bearer <proxy token>`). A proxy id is bound to the stream that
// claimed it: a second stream for a connected id is refused (409) unless it presents that stream's session, which
// the controller sends as the first message and which every ACK must carry, so that nobody else can ACK, NACK or
// take over the id.
//
// Like xDS, every push carries the version of the snapshot it was translated from, and the controller records
// per proxy what it sent and what was acknowledged. A proxy that cannot apply a config NACKs it and keeps its
// last good one; a proxy that loses the controller keeps serving and reconnects.
import { gzipSync } from 'node:zlib';
import { nodeId, podName, type NodeIdentity, type ProxyConfig } from '../proxy-config/types.js';
import { array, boolean, type Decoder, DecodeError, object, oneOf, optional, record, string } from './decode.js';

export const DISCOVERY_PATH = '/v1/discovery';
export const ACK_PATH = '/v1/discovery/ack';
export const DRAIN_PATH = '/v1/discovery/drain';
export const PING_INTERVAL_MS = 10_000;

export interface DiscoveryRequest {
  readonly node: NodeIdentity;
  /** The version the proxy has in force, if any (after a reconnect). */
  readonly currentVersion?: string;
  /** The session of this proxy's previous stream: proves that a reconnect may replace a stream not yet closed. */
  readonly resume?: string;
  /**
   * The public key (SPKI, PEM) of the key pair the proxy made for its mesh identity: the controller's CA signs a
   * certificate for it. The private key never leaves the proxy.
   */
  readonly publicKey?: string;
}

export type ServerMessage =
  | { readonly type: 'session'; readonly session: string }
  | { readonly type: 'config'; readonly version: string; readonly config: ProxyConfig }
  | { readonly type: 'ping' };

export interface AckRequest {
  readonly nodeId: string;
  /** The session the controller sent on this proxy's stream. */
  readonly session: string;
  readonly version: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface DrainRequest {
  readonly nodeId: string;
  /** The session of the proxy's stream, as for ACKs. */
  readonly session: string;
}

export interface DrainResponse {
  /** True: every other proxy acknowledged a config without this one; false: some did not in time. */
  readonly drained: boolean;
}

// -- decoders for both ends ---------------------------------------------------------------------------------------

const VERSION = /^\d{1,15}$/;
const version = string({ pattern: VERSION, expected: 'a version (digits)' });
const name = string({ maxLength: 253, pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, expected: 'a DNS name' });
const session = string({ maxLength: 64, pattern: /^[A-Za-z0-9_-]+$/, expected: 'a session' });

const node: Decoder<NodeIdentity> = (value, path) => {
  const n = object({
    id: string({ maxLength: 600 }),
    type: oneOf(['sidecar', 'router']),
    name,
    namespace: name,
    ip: string({ maxLength: 45, pattern: /^[0-9a-fA-F:.]+$/, expected: 'an IP address' }),
    pod: optional(name),
    labels: record(string({ maxLength: 1024 }), 256),
    serviceAccount: string({ maxLength: 253 }),
  })(value, path);
  // The id is a function of the rest, so that one proxy cannot claim another's id under a different identity.
  const expected = nodeId(n.type, n.ip, podName(n), n.namespace);
  if (n.id !== expected) throw new DecodeError(`${path}.id: expected ${expected}, got ${JSON.stringify(n.id)}`);
  const { pod, ...rest } = n;
  return pod === undefined ? rest : { ...rest, pod };
};

const publicKey = string({
  maxLength: 4096,
  pattern: /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/,
  expected: 'a PEM public key',
});

export const decodeDiscoveryRequest: Decoder<DiscoveryRequest> = object({
  node,
  currentVersion: optional(version),
  resume: optional(session),
  publicKey: optional(publicKey),
});

export const decodeAckRequest: Decoder<AckRequest> = object({
  nodeId: string({ maxLength: 600 }),
  session,
  version,
  ok: boolean,
  error: optional(string({ maxLength: 64 * 1024 })),
});

export const decodeDrainRequest: Decoder<DrainRequest> = object({ nodeId: string({ maxLength: 600 }), session });

export const decodeDrainResponse: Decoder<DrainResponse> = object({ drained: boolean });

/**
 * The envelope of what the controller sends. The config itself is the proxy-config contract; the data plane
 * compiles it and NACKs what it cannot use, so only its shape as an object with a version is checked here.
 */
export const decodeServerMessage: Decoder<ServerMessage> = (value, path) => {
  const { type } = object({ type: oneOf(['session', 'config', 'ping']) })(value, path);
  switch (type) {
    case 'ping':
      return { type };
    case 'session':
      return { type, session: object({ session })(value, path).session };
    case 'config': {
      const m = object({ version, config: object({ version, listeners: array((v) => v, 100_000) }) })(value, path);
      return { type, version: m.version, config: (value as { config: ProxyConfig }).config };
    }
  }
};

/**
 * The longest message a proxy reads from the controller. The config of a sidecar at 10,000 ServiceEntries is about
 * 7 MiB; past this a stream (a fault, or a gzip bomb) is cut rather than held in memory without end.
 */
export const MAX_MESSAGE_CHARS = 256 * 1024 * 1024;

/** Splits a byte stream into lines; keeps the partial tail between chunks, and throws past `maxLine` characters. */
export class LineSplitter {
  private tail = '';

  constructor(private readonly maxLine = MAX_MESSAGE_CHARS) {}

  push(chunk: string): string[] {
    // A large config arrives in many chunks: only a chunk that ends a line costs a split.
    let lines: string[] = [];
    if (!chunk.includes('\n')) this.tail += chunk;
    else {
      lines = (this.tail + chunk).split('\n');
      this.tail = lines.pop() ?? '';
    }
    if (this.tail.length > this.maxLine) {
      this.tail = '';
      throw new Error(`a message from the controller longer than ${this.maxLine} characters`);
    }
    return lines.filter((l) => l.length > 0);
  }
}

/**
 * How a stream's bytes are encoded. gzip: every piece is a gzip member of its own (a stream of members is one
 * valid gzip body), so shared pieces are compressed once, and each message can be decompressed as it arrives.
 */
export type StreamEncoding = 'identity' | 'gzip';

/** Speed over ratio: a 7 MiB route list still shrinks about 40 times, in milliseconds. */
const GZIP_OPTIONS = { level: 1 } as const;

export function encodePiece(text: string, encoding: StreamEncoding): Buffer {
  return encoding === 'gzip' ? gzipSync(text, GZIP_OPTIONS) : Buffer.from(text);
}

/** Route-config and cluster lists, encoded, kept while the list is: proxies sharing a translation share them. */
const shared: Record<StreamEncoding, WeakMap<object, Buffer>> = { identity: new WeakMap(), gzip: new WeakMap() };

function sharedPiece(value: object, encoding: StreamEncoding): Buffer {
  let bytes = shared[encoding].get(value);
  if (bytes === undefined) {
    bytes = encodePiece(JSON.stringify(value), encoding);
    shared[encoding].set(value, bytes);
  }
  return bytes;
}

/** A message other than a config, as one line of the stream. */
export function encodeMessage(message: ServerMessage, encoding: StreamEncoding): Buffer {
  return encodePiece(`${JSON.stringify(message)}\n`, encoding);
}

/**
 * A config message as one line of the stream, in pieces to write in order: decoded, the same bytes as
 * JSON.stringify of the message and a newline, with the route configs and clusters (nearly all of a large config)
 * serialized and encoded once however many proxies receive them.
 */
export function encodeConfigMessage(version: string, config: ProxyConfig, encoding: StreamEncoding): Buffer[] {
  const { routeConfigs, clusters, ...rest } = config;
  const head = JSON.stringify({ type: 'config', version, config: rest });
  // head ends with the two closing braces of config and of the message.
  return [
    encodePiece(`${head.slice(0, -2)},"routeConfigs":`, encoding),
    sharedPiece(routeConfigs, encoding),
    encodePiece(',"clusters":', encoding),
    sharedPiece(clusters, encoding),
    encodePiece('}}\n', encoding),
  ];
}
