// A QUIC stream as Web Streams (the shape of WebTransport's streams): `readable` pulls from the connection's
// receive buffer, `writable` resolves each write once the bytes are in the send buffer, so backpressure
// follows flow control and the per-stream buffer limit.

import type { QuicConnection } from './connection.js';

export class QuicStream {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  /** Wakes a pending read or write when the connection reports progress. */
  private readWaiter: (() => void) | undefined;
  private writeWaiter: (() => void) | undefined;
  /** Set when the peer reset its side (the readable errors) or asked us to stop (the writable errors). */
  private readError: Error | undefined;
  private writeError: Error | undefined;

  constructor(
    private readonly conn: QuicConnection,
    readonly id: number,
    canRead: boolean,
    canWrite: boolean,
  ) {
    this.readable = canRead
      ? new ReadableStream<Uint8Array>(
          {
            pull: (controller) => this.pull(controller),
            cancel: (reason) => this.conn.stopSending(this.id, codeOf(reason)),
          },
          { highWaterMark: 0 },
        )
      : null;
    this.writable = canWrite
      ? new WritableStream<Uint8Array>(
          {
            write: (chunk) => this.write(chunk),
            close: () => this.conn.finish(this.id),
            abort: (reason) => this.conn.resetStream(this.id, codeOf(reason)),
          },
          { highWaterMark: 1 },
        )
      : null;
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (this.readError !== undefined) throw this.readError;
      const r = this.conn.read(this.id);
      if (r !== null) {
        if (r.data.length > 0) controller.enqueue(r.data);
        if (r.fin) controller.close();
        if (r.data.length > 0 || r.fin) return;
      }
      await new Promise<void>((resolve) => (this.readWaiter = resolve));
    }
  }

  private async write(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.writeError !== undefined) throw this.writeError;
      at += this.conn.write(this.id, at === 0 ? chunk : chunk.subarray(at));
      if (at < chunk.length) await new Promise<void>((resolve) => (this.writeWaiter = resolve));
    }
  }

  /** @internal */
  wakeRead(): void {
    const w = this.readWaiter;
    this.readWaiter = undefined;
    w?.();
  }

  /** @internal */
  wakeWrite(): void {
    const w = this.writeWaiter;
    this.writeWaiter = undefined;
    w?.();
  }

  /** @internal */
  failRead(e: Error): void {
    this.readError = e;
    this.wakeRead();
  }

  /** @internal */
  failWrite(e: Error): void {
    this.writeError = e;
    this.wakeWrite();
  }
}

/** An application error code from an abort/cancel reason: a number, a bigint, or { code }; 0 otherwise. */
function codeOf(reason: unknown): number | bigint {
  if (typeof reason === 'number' || typeof reason === 'bigint') return reason;
  if (typeof reason === 'object' && reason !== null && 'code' in reason) {
    const c = (reason as { code: unknown }).code;
    if (typeof c === 'number' || typeof c === 'bigint') return c;
  }
  return 0;
}

export class StreamError extends Error {
  constructor(
    message: string,
    readonly errorCode: number | bigint,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}
