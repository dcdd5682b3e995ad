// Chunked transfer coding (RFC 9112 §7.1): decoded incrementally, split anywhere across reads, and strictly: the
// size lines, the chunk data's CRLF and the trailers each refuse the shapes two parsers could read differently.
import { CR, checkFieldLines, LF, WireError } from './wire.js';

// Control characters other than HTAB, and a CR that does not start a CRLF: for chunk lines and trailers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)/;
/** Longest chunk-size line (size and extensions) accepted. */
const MAX_CHUNK_LINE = 4096;
/** Longest trailer section accepted. */
const MAX_TRAILERS = 16 * 1024;
const HEX = /^[0-9A-Fa-f]{1,13}$/;

enum ChunkState {
  SizeLine,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

/** Decodes a chunked body incrementally, split anywhere across calls, strictly. */
export class ChunkedDecoder {
  private state = ChunkState.SizeLine;
  /** The part of a size line or of the trailers already seen. */
  private line = '';
  private remaining = 0;

  /** Appends buf from pos through its next LF (or to its end) to the line being read; returns where it stopped. */
  private appendLine(buf: Buffer, pos: number, limit: number, tooLong: string): number {
    const lf = buf.indexOf(LF, pos);
    const stop = lf < 0 ? buf.length : lf + 1;
    this.line += buf.toString('latin1', pos, stop);
    if (this.line.length > limit) throw new WireError('malformed', tooLong);
    return stop;
  }

  /**
   * Decodes buf from offset, passing each piece of body data to onData (subarrays of buf, valid during the call).
   * Returns the offset just past the body's end (last chunk and trailer section) when it ends within buf, else -1.
   */
  decode(buf: Buffer, offset: number, onData: (piece: Buffer) => void): number {
    let pos = offset;
    while (pos < buf.length) {
      switch (this.state) {
        case ChunkState.SizeLine: {
          pos = this.appendLine(buf, pos, MAX_CHUNK_LINE, 'chunk-size line too long');
          if (!this.line.endsWith('\n')) break;
          this.remaining = chunkSize(this.line);
          this.line = '';
          this.state = this.remaining === 0 ? ChunkState.Trailers : ChunkState.Data;
          break;
        }
        case ChunkState.Data: {
          const n = Math.min(this.remaining, buf.length - pos);
          onData(buf.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = ChunkState.DataCr;
          break;
        }
        case ChunkState.DataCr:
          if (buf[pos++] !== CR) throw new WireError('malformed', 'chunk data not followed by CRLF');
          this.state = ChunkState.DataLf;
          break;
        case ChunkState.DataLf:
          if (buf[pos++] !== LF) throw new WireError('malformed', 'chunk data not followed by CRLF');
          this.state = ChunkState.SizeLine;
          break;
        case ChunkState.Trailers: {
          // Trailer fields, then an empty line; read and checked, not kept.
          pos = this.appendLine(buf, pos, MAX_TRAILERS, 'trailer section too long');
          if (!this.line.endsWith('\n')) break;
          if (!this.line.endsWith('\r\n')) throw new WireError('malformed', 'a trailer line ends in a bare LF');
          if (this.line.endsWith('\r\n\r\n') || this.line === '\r\n') {
            if (FORBIDDEN.test(this.line)) throw new WireError('malformed', 'a control character in the trailers');
            if (this.line !== '\r\n') checkFieldLines(this.line);
            this.line = '';
            this.state = ChunkState.Done;
            return pos;
          }
          break;
        }
        case ChunkState.Done:
          return pos;
      }
    }
    return this.state === ChunkState.Done ? pos : -1;
  }
}

/** The size of a chunk from its size line (with its CRLF): hex digits, then extensions after ";". */
function chunkSize(line: string): number {
  if (!line.endsWith('\r\n')) throw new WireError('malformed', 'a chunk-size line ends in a bare LF');
  const body = line.slice(0, -2);
  if (FORBIDDEN.test(body)) throw new WireError('malformed', 'a control character in a chunk-size line');
  const semi = body.indexOf(';');
  // Whitespace before ";" is tolerated (RFC 9112 §7.1.1 BWS), nowhere else.
  const hex = semi < 0 ? body : body.slice(0, semi).trimEnd();
  if (!HEX.test(hex)) throw new WireError('malformed', `invalid chunk size ${JSON.stringify(hex.slice(0, 20))}`);
  return Number.parseInt(hex, 16);
}

/** The line before a chunk of n bytes. */
export function chunkSizeLine(n: number): string {
  return `${n.toString(16)}\r\n`;
}
