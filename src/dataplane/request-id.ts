// The x-request-id a request gets when it came without one: a random UUID, as Envoy generates. Each is made ahead
// of the request that takes it, once the request before has been sent on its way (while it waits for its
// upstream), so that making one is not on any request's path to its upstream.
import { randomUUID } from 'node:crypto';

let spare: string | undefined;

/** A fresh request ID: the one made ahead, or a new one. Never the same one twice. */
export function takeRequestId(): string {
  const id = spare ?? randomUUID();
  spare = undefined;
  return id;
}

/** Makes the next request's ID now, if none is waiting. */
export function prepareRequestId(): void {
  spare ??= randomUUID();
}
