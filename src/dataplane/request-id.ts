// The x-request-id a request gets when it came without one: a random (version 4) UUID, as Envoy generates. Each is
// made ahead of the request that takes it, once the request before has been sent on its way (while it waits for its
// upstream), so that making one is not on any request's path to its upstream.
//
// The random bytes come from the system's secure generator, 256 IDs' worth at a time, as node:crypto's randomUUID
// takes them. The text is written into a scratch buffer and read out once: one flat 36-character string per ID,
// where randomUUID's joins leave some twenty intermediate strings per ID for the garbage collector.
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 256;
const random = Buffer.alloc(16 * IDS_PER_FILL);
let used = IDS_PER_FILL;
const text = Buffer.alloc(36);
/** The two hex digits of each byte value, as character codes: HEX[2b] and HEX[2b + 1]. */
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const digits = b.toString(16).padStart(2, '0');
  HEX[2 * b] = digits.charCodeAt(0);
  HEX[2 * b + 1] = digits.charCodeAt(1);
}
const DASH = 0x2d;

function randomUuid(): string {
  if (used === IDS_PER_FILL) {
    randomFillSync(random);
    used = 0;
  }
  const from = 16 * used++;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    let b = random[from + i]!;
    // RFC 9562 §5.4: the version (4) in the high nibble of byte 6, the variant (10) in the high bits of byte 8.
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
    text[at++] = HEX[2 * b]!;
    text[at++] = HEX[2 * b + 1]!;
  }
  return text.toString('latin1', 0, 36);
}

let spare: string | undefined;

/** A fresh request ID: the one made ahead, or a new one. Never the same one twice. */
export function takeRequestId(): string {
  const id = spare ?? randomUuid();
  spare = undefined;
  return id;
}

/** Makes the next request's ID now, if none is waiting. */
export function prepareRequestId(): void {
  spare ??= randomUuid();
}
