// A loopback client that writes raw bytes and reads raw bytes, for codec tests: no HTTP library in between.
import { connect, type Socket } from 'node:net';

export class RawClient {
  readonly socket: Socket;
  /** Everything received, as latin1 text. */
  text = '';
  /** The server ended its side. */
  ended = false;
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** Writes one byte at a time, each in its own write, letting the event loop turn between them. */
  async trickle(bytes: string): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      await this.write(bytes[i]!);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves once what was received satisfies `done` (or the connection ended), rejects after `ms`. */
  until(done: (text: string) => boolean, ms = 3_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (done(this.text)) {
          clearTimeout(timer);
          resolve(this.text);
          return true;
        }
        if (this.ended || this.closed) {
          clearTimeout(timer);
          reject(new Error(`connection ended; received ${JSON.stringify(this.text.slice(0, 400))}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out; received ${JSON.stringify(this.text.slice(0, 400))}`));
      }, ms);
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  /** Resolves once `count` responses have been received (counted by status line). */
  responses(count: number, ms?: number): Promise<string> {
    return this.until((t) => (t.match(/HTTP\/1\.1 [2-5]\d\d /g)?.length ?? 0) >= count, ms);
  }

  /** Resolves once the server ended or closed the connection, with what was received. */
  ending(ms = 3_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!this.ended && !this.closed) return false;
        clearTimeout(timer);
        resolve(this.text);
        return true;
      };
      const timer = setTimeout(() => reject(new Error(`still open; received ${JSON.stringify(this.text)}`)), ms);
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
