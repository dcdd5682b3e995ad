// Socket writes made while the proxy is busy leave together at the end of the event loop's turn, not one by one as
// they are made. A write to a peer on the same host (an application and its sidecar, a proxy and a local upstream)
// runs the peer's side of TCP and wakes the peer, which costs more than the write's own work: on a busy proxy,
// writing the requests of one turn to an upstream as they are made wakes the upstream once per request, where
// writing them together at the end of the turn wakes it once. Writes of one turn to one socket (pipelined responses,
// a head and its body) also leave in one write. Envoy does the same:
// a connection's write() fills its buffer and activates the socket's write event, and the bytes go out when the
// dispatcher gets to that event, after the callbacks already running.
//
// The end of a turn is Node's check phase (setImmediate), which follows the poll phase that ran the turn's reads.
// A socket written to during the turn is corked at its first write and uncorked there: its writes of the turn leave
// in one write (writev) when there are several.
//
// A write is held only while the process has more than one request in flight: at one request in flight (one
// client, one request at a time) there is nothing to write together, and holding the write would add the rest of
// the turn, and a setImmediate, to every request's latency. The servers keep the count (requestsInFlight).
import type { Socket } from 'node:net';

/** Sockets corked in this turn, uncorked at its end. */
const held = new Set<Socket>();
/** Downstream requests in flight in this process: dispatched, their response not yet finished or cut. */
let inFlight = 0;
let scheduled = false;

/**
 * At the end of the turn: every held socket writes what it has, in one write each. A socket whose write throws is
 * cut; the others still write (a held socket left corked would never write again).
 */
function endTurn(): void {
  scheduled = false;
  for (const socket of held) {
    held.delete(socket);
    try {
      socket.uncork();
    } catch (err) {
      socket.destroy(err as Error);
    }
  }
}

/** A server dispatched a request (1) or its response finished or was cut (-1). */
export function requestsInFlight(change: 1 | -1): void {
  inFlight += change;
}

/**
 * Called before writing to `socket`: the write that follows (and the socket's other writes of this turn) may be
 * held to the end of the turn. Writes keep their order, and their return values keep meaning what they meant
 * (a write past the socket's high-water mark returns false and 'drain' follows).
 */
export function beforeWrite(socket: Socket): void {
  if (inFlight < 2 || held.has(socket)) return;
  held.add(socket);
  socket.cork();
  if (!scheduled) {
    scheduled = true;
    setImmediate(endTurn);
  }
}

/**
 * Destroys a socket of the codec after writing what it holds for the end of the turn: destroy() drops what a
 * stream still holds, and a peer that is cut off should still get every byte written before the cut. Every cut of
 * a socket that may have been written to this turn goes through here.
 */
export function destroyAfterHeld(socket: Socket, err?: Error): void {
  if (held.delete(socket)) {
    try {
      socket.uncork();
    } catch {
      // cut below either way
    }
  }
  socket.destroy(err);
}

/** How many sockets wait for the end of the turn, and the requests in flight (tests). */
export function writeTurnState(): { held: number; inFlight: number } {
  return { held: held.size, inFlight };
}
