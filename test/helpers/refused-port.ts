// A port that refuses connections, for tests of an upstream that is down.
import { connect } from 'node:net';

/**
 * A port on 127.0.0.1 that refuses connections, for a cluster or a destination that is down. A port taken with
 * listen(0) and closed again is no good: a test running alongside can be given the same port before the connection
 * is tried. TCP port 1 (tcpmux) is assigned but served by nothing here; it is checked, so that a machine where
 * something does listen there says so rather than failing a test in some other way.
 */
export async function refusedPort(): Promise<number> {
  const port = 1;
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
  if (!refused) throw new Error(`127.0.0.1:${port} is expected to refuse connections, and does not`);
  return port;
}
