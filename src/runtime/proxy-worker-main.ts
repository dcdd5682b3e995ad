// The entry point node:cluster starts for each worker of a proxy process (see worker-planes.ts).
import { runProxyWorker } from './proxy-worker.js';

runProxyWorker();
