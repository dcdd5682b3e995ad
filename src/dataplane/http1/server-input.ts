// The bytes read off a downstream connection and not yet consumed: a request head is found in them (gathered into
// one buffer when it spans reads), a body is read from them piece by piece, and a pipelined request waits in them.
import { findHeadEnd } from './wire.js';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

export class RequestInput {
  /** Unconsumed bytes in all. */
  bytes = 0;
  /** Where the unconsumed bytes start in `first`. */
  offset = 0;
  /** The reads holding unconsumed bytes: the first from `offset`, the rest whole. */
  private chunks: Buffer[] = [];
  /**
   * A head that spans reads is gathered here, grown by doubling so that a head sent a byte at a time costs linear
   * time. Only bytes past `ownedLength` are ever written, so pieces already handed out of it stay valid.
   */
  private owned: Buffer | undefined;
  private ownedLength = 0;
  /** Of the head being gathered: bytes already searched for its end, and where the search resumes (a line's CR). */
  private seen = 0;
  private resume = 0;

  /** The read the unconsumed bytes start in (empty when there are none). */
  get first(): Buffer {
    return this.chunks[0] ?? EMPTY;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  consume(n: number): void {
    this.bytes -= n;
    let at = this.offset + n;
    const chunks = this.chunks;
    while (chunks.length > 0 && at >= chunks[0]!.length) {
      at -= chunks[0]!.length;
      chunks.shift();
    }
    this.offset = chunks.length > 0 ? at : 0;
  }

  /**
   * RFC 9112 §2.2: empty lines before a request line are ignored. False when no byte of a head is here yet (a lone
   * CR may be waiting for its LF).
   */
  skipEmptyLines(): boolean {
    while (this.bytes > 0) {
      const buf = this.chunks[0]!;
      const at = this.offset;
      if (buf[at] !== CR) return true;
      if (at + 1 >= buf.length) {
        if (this.chunks.length === 1) return false;
        this.gather();
        continue;
      }
      if (buf[at + 1] !== LF) return true;
      this.consume(2);
      this.seen = this.resume = 0;
    }
    return false;
  }

  /**
   * Where the head that starts at `offset` ends in `first` (just past its empty line), or -1 when it has not all
   * arrived. Throws WireError as findHeadEnd does.
   */
  findHead(maxBytes: number): number {
    for (;;) {
      const buf = this.chunks[0]!;
      const start = this.offset;
      // The end can only be at a LF: new bytes without one need no search, unless they pass the limit.
      if (buf.indexOf(LF, start + this.seen) >= 0 || buf.length - start > maxBytes) {
        const end = findHeadEnd(buf, start + this.resume, maxBytes - this.resume);
        if (end >= 0) {
          this.seen = this.resume = 0;
          return end;
        }
      }
      // Searched to the end: the next search starts at the last line's CR, so no byte is searched twice.
      let lf = buf.indexOf(LF, start + this.seen);
      while (lf >= 0) {
        this.resume = lf - 1 - start;
        lf = buf.indexOf(LF, lf + 1);
      }
      this.seen = buf.length - start;
      if (this.chunks.length === 1) return -1;
      this.gather();
    }
  }

  /** Everything unconsumed, as one buffer, and nothing left here (CONNECT and upgrade hand-offs). */
  take(): Buffer {
    if (this.bytes === 0) return EMPTY;
    const chunks = this.chunks;
    chunks[0] = chunks[0]!.subarray(this.offset);
    const rest = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    this.clear();
    return rest;
  }

  clear(): void {
    this.chunks = [];
    this.offset = 0;
    this.bytes = 0;
    this.seen = this.resume = 0;
  }

  /** Joins the second read onto the first, in the buffer a head that spans reads is gathered in. */
  private gather(): void {
    const chunks = this.chunks;
    const first = chunks[0]!;
    const next = chunks[1]!;
    const have = first.length - this.offset;
    const owned = this.owned;
    if (
      owned !== undefined &&
      first.buffer === owned.buffer &&
      first.byteOffset + first.length === owned.byteOffset + this.ownedLength &&
      this.ownedLength + next.length <= owned.length
    ) {
      next.copy(owned, this.ownedLength);
      this.ownedLength += next.length;
      chunks[0] = owned.subarray(first.byteOffset - owned.byteOffset, this.ownedLength);
    } else {
      const grown = Buffer.allocUnsafeSlow(Math.max(4096, 2 * (have + next.length)));
      first.copy(grown, 0, this.offset);
      next.copy(grown, have);
      this.owned = grown;
      this.ownedLength = have + next.length;
      chunks[0] = grown.subarray(0, this.ownedLength);
      this.offset = 0;
    }
    chunks.splice(1, 1);
  }
}
