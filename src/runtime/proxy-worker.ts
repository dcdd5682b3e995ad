// One worker of a proxy process run with --concurrency N: a data plane that shares the process's listeners
// (node:cluster hands each accepted connection to one worker) and takes its configs from the primary.
import process from 'node:process';
import { DataPlane, dnsServerResolver, systemResolver } from '../dataplane/index.js';
import { BatchedOutput } from './batched-output.js';
import { isPrimaryMessage, type WorkerInit, type WorkerMessage, WORKER_LOG_INTERVAL_MS } from './worker-protocol.js';

function send(m: WorkerMessage): void {
  process.send?.(m);
}

function dataPlaneFor(init: WorkerInit, log: BatchedOutput): DataPlane {
  return new DataPlane(init.node, {
    resolver: init.dnsServers.length > 0 ? dnsServerResolver([...init.dnsServers]) : systemResolver(),
    connectTo: init.connectTo,
    onAccessLog: (line) => log.write(line),
    onWarning: (message) => send({ type: 'warning', message }),
    identityKey: init.identityKey,
    controlPlane: init.controlPlane,
    ...(init.trustedCas.length > 0 ? { trustedCas: init.trustedCas } : {}),
  });
}

export function runProxyWorker(): void {
  const log = new BatchedOutput((bytes) => send({ type: 'log', text: bytes.toString('utf8') }), WORKER_LOG_INTERVAL_MS);
  let plane: DataPlane | undefined;
  // Signals go to the whole process group; the primary decides when its workers stop.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // Without its primary a worker has no config source and no log sink.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: unknown) => {
    if (!isPrimaryMessage(m)) return;
    switch (m.type) {
      case 'init':
        plane ??= dataPlaneFor(m.init, log);
        return;
      case 'apply': {
        const p = plane;
        if (!p) {
          send({ type: 'applied', id: m.id, ok: false, error: 'worker not initialised' });
          return;
        }
        void p
          .apply(m.config)
          .then((r) =>
            send(
              r.ok ? { type: 'applied', id: m.id, ok: true } : { type: 'applied', id: m.id, ok: false, error: r.error },
            ),
          );
        return;
      }
      case 'stop':
      case 'drain':
        void ((m.type === 'drain' ? plane?.drain(m.graceMs) : plane?.close()) ?? Promise.resolve()).then(() => {
          log.flush();
          process.send?.({ type: 'stopped' } satisfies WorkerMessage, () => process.disconnect?.());
        });
        return;
    }
  });
  send({ type: 'ready' });
}
