// The proxies' side of the controller's HTTP server: the discovery stream and its ACKs (distribution/protocol.ts).
import type http from 'node:http';
import {
  decodeAckRequest,
  decodeDiscoveryRequest,
  decodeDrainRequest,
  type DrainResponse,
  encodeConfigMessage,
  encodeMessage,
  PING_INTERVAL_MS,
  type ServerMessage,
} from '../distribution/index.js';
import type { ProxyConfig } from '../proxy-config/types.js';
import type { Controller, ProxyStream } from './controller.js';
import { BODY_LIMITS, HttpError, readJson, sendJson } from './http-io.js';

export async function discoveryStream(
  controller: Controller,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const request = await readJson(req, decodeDiscoveryRequest, BODY_LIMITS.protocol);
  const { node } = request;
  let ping: NodeJS.Timeout | undefined;
  // Proxies that accept gzip get the stream as gzip members: a large config is a fraction of the bytes to send.
  const encoding = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') ? 'gzip' : 'identity';
  const write = (message: ServerMessage): void => {
    res.write(encodeMessage(message, encoding));
  };
  const stream: ProxyStream = {
    open: (session) => {
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
        ...(encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      });
      write({ type: 'session', session });
      ping = setInterval(() => write({ type: 'ping' }), PING_INTERVAL_MS);
    },
    send: (version: string, config: ProxyConfig) => {
      res.cork();
      for (const piece of encodeConfigMessage(version, config, encoding)) res.write(piece);
      res.uncork();
    },
    close: () => res.end(),
  };
  res.on('close', () => {
    clearInterval(ping);
    controller.disconnect(node.id, stream);
  });
  const result = controller.connect(node, stream, {
    resume: request.resume,
    currentVersion: request.currentVersion,
    publicKey: request.publicKey,
  });
  if (!result.ok) throw new HttpError(409, result.error);
}

export async function discoveryAck(
  controller: Controller,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const ack = await readJson(req, decodeAckRequest, BODY_LIMITS.protocol);
  switch (controller.ack(ack.nodeId, ack.session, ack.version, ack.ok, ack.error)) {
    case 'accepted':
      return sendJson(res, 200, {});
    case 'unknown-proxy':
      throw new HttpError(404, `no proxy ${ack.nodeId} is connected`);
    case 'wrong-session':
      throw new HttpError(403, `session does not match the stream of ${ack.nodeId}; only that stream's proxy may ACK`);
  }
}

/** How long a drain waits for the other proxies to acknowledge that the draining one is no longer an endpoint. */
export const DRAIN_ACK_TIMEOUT_MS = 10_000;

export async function discoveryDrain(
  controller: Controller,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const drain = await readJson(req, decodeDrainRequest, BODY_LIMITS.protocol);
  const result = await controller.drain(drain.nodeId, drain.session, DRAIN_ACK_TIMEOUT_MS);
  switch (result) {
    case 'accepted':
    case 'timeout':
      return sendJson(res, 200, { drained: result === 'accepted' } satisfies DrainResponse);
    case 'unknown-proxy':
      throw new HttpError(404, `no proxy ${drain.nodeId} is connected`);
    case 'wrong-session':
      throw new HttpError(
        403,
        `session does not match the stream of ${drain.nodeId}; only that stream's proxy may drain`,
      );
  }
}
