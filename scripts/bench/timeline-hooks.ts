// Loaded with `node --import` into a proxy under the latency timeline (`timeline.ts`): it timestamps, on every
// socket, the moments a request passes at the socket level — bytes read (the 'data' event or an `onread`
// callback, its start and end), a write called and returned, an uncork returned (a corked write reaches the kernel
// there) — into a preallocated ring, and writes the ring out when the process exits. Server-side sockets (accepted by a listener) are the
// downstream; the others are upstream connections. Nothing here changes what the proxy does.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const Mark = {
  DownstreamData: 1,
  DownstreamDataEnd: 2,
  UpstreamWrite: 3,
  UpstreamWriteReturn: 4,
  UpstreamUncorkReturn: 5,
  UpstreamData: 6,
  UpstreamDataEnd: 7,
  DownstreamWrite: 8,
  DownstreamWriteReturn: 9,
  DownstreamUncorkReturn: 10,
} as const;
export type Mark = (typeof Mark)[keyof typeof Mark];

const dir = process.env.TOLLGATE_TIMELINE_DIR;
if (dir !== undefined) install(dir);

function install(out: string): void {
  const size = 1 << 21;
  const times = new Float64Array(size);
  const marks = new Uint8Array(size);
  let count = 0;
  const origin = performance.timeOrigin;
  const mark = (m: Mark): void => {
    const at = count++ & (size - 1);
    times[at] = origin + performance.now();
    marks[at] = m;
  };
  const downstream = (s: net.Socket): boolean => (s as unknown as { server?: unknown }).server != null;

  const proto = net.Socket.prototype;
  const write = proto.write;
  proto.write = function (this: net.Socket, ...args: unknown[]): boolean {
    const d = downstream(this);
    mark(d ? Mark.DownstreamWrite : Mark.UpstreamWrite);
    const flowing = (write as (...a: unknown[]) => boolean).apply(this, args);
    mark(d ? Mark.DownstreamWriteReturn : Mark.UpstreamWriteReturn);
    return flowing;
  } as typeof proto.write;
  const uncork = proto.uncork;
  proto.uncork = function (this: net.Socket): void {
    uncork.call(this);
    mark(downstream(this) ? Mark.DownstreamUncorkReturn : Mark.UpstreamUncorkReturn);
  };
  const emit = proto.emit as (this: net.Socket, ...a: unknown[]) => boolean;
  proto.emit = function (this: net.Socket, ...args: unknown[]): boolean {
    if (args[0] !== 'data') return emit.apply(this, args);
    const d = downstream(this);
    mark(d ? Mark.DownstreamData : Mark.UpstreamData);
    const handled = emit.apply(this, args);
    mark(d ? Mark.DownstreamDataEnd : Mark.UpstreamDataEnd);
    return handled;
  } as typeof proto.emit;

  // Upstream connections that read with `onread` (plain TCP) hand each read to a callback, not to a 'data' event.
  type OnRead = { buffer: unknown; callback: (nread: number, buf: Buffer) => boolean | undefined };
  const connect = net.connect as (...a: unknown[]) => net.Socket;
  (net as { connect: unknown }).connect = (...args: unknown[]): net.Socket => {
    const options = args[0] as { onread?: OnRead } | undefined;
    const onread = typeof options === 'object' && options !== null ? options.onread : undefined;
    if (onread !== undefined) {
      const callback = onread.callback;
      args[0] = {
        ...options,
        onread: {
          ...onread,
          callback(nread: number, buf: Buffer): boolean | undefined {
            mark(Mark.UpstreamData);
            const more = callback(nread, buf);
            mark(Mark.UpstreamDataEnd);
            return more;
          },
        },
      };
    }
    return connect.apply(net, args);
  };

  process.on('exit', () => {
    const n = Math.min(count, size);
    const first = count > size ? count & (size - 1) : 0;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const at = (first + i) & (size - 1);
      lines.push(`${marks[at]} ${times[at]!.toFixed(4)}`);
    }
    fs.writeFileSync(path.join(out, `marks-${process.pid}.txt`), lines.join('\n'));
  });
}
