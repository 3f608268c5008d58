// QuicConnection: a sans-IO Connection driven by its QuicEndpoint, with promises, async iterators and
// Web Streams for the application (modelled on WebTransport's JavaScript API).

import type { Connection, ConnectionEvent, ConnectionStats } from '@gquic/quic';
import type { ClientSession } from '@gquic/tls';
import { QuicError } from '@gquic/wire';
import { nowUs } from './clock.js';
import { QuicStream, StreamError } from './stream.js';

export interface CloseInfo {
  errorCode: number | bigint;
  reason: string;
  isApplication: boolean;
  byPeer: boolean;
  idle: boolean;
}

/** What the endpoint offers its connections. */
export interface Driver {
  /** Something was queued: send soon (coalesced per tick). */
  kick(): void;
  /** Moves the connection to a new local socket (client migration). */
  migrate(conn: QuicConnection): Promise<void>;
}

/** The connection was closed with an application error code (by us or the peer, as `info` says). */
export class ApplicationCloseError extends Error {
  readonly errorCode: number | bigint;
  constructor(readonly info: CloseInfo) {
    super(`connection closed by ${info.byPeer ? 'the peer' : 'us'} with application code 0x${info.errorCode.toString(16)}${info.reason !== '' ? `: ${info.reason}` : ''}`);
    this.name = 'ApplicationCloseError';
    this.errorCode = info.errorCode;
  }
}

class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiters: Array<(r: IteratorResult<T>) => void> = [];
  private ended = false;

  push(v: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w({ value: v, done: false });
    else this.items.push(v);
  }

  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve({ value: v, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export { AsyncQueue };

export class QuicConnection {
  /** Resolves when the handshake completes; rejects if the connection closes first. */
  readonly ready: Promise<{ alpn: string; resumed: boolean; cipherSuite: number }>;
  /** Resolves when the connection has ended, however it ended. */
  readonly closed: Promise<CloseInfo>;
  private resolveReady!: (v: { alpn: string; resumed: boolean; cipherSuite: number }) => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (v: CloseInfo) => void;
  private readonly streams = new Map<number, QuicStream>();
  private readonly incomingBidi = new AsyncQueue<QuicStream>();
  private readonly incomingUni = new AsyncQueue<QuicStream>();
  private streamWaiters: Array<() => void> = [];
  private closeInfo: CloseInfo | undefined;
  /** The latest session ticket (pass as tls.session, with earlyData, to resume with 0-RTT). */
  session: ClientSession | undefined;
  /** Called with each session ticket as it arrives (e.g. to store it). */
  onSessionTicket: ((session: ClientSession) => void) | undefined;
  /** The latest NEW_TOKEN token (pass as addressToken next time to skip a Retry). */
  addressToken: Uint8Array | undefined;
  private datagramWaiter: (() => void) | undefined;
  /**
   * DATAGRAM frames (RFC 9221) as a stream pair, like WebTransport's `datagrams`: unreliable and unordered;
   * writes never wait (a full send queue drops its oldest datagram), reads wait for the next one.
   */
  readonly datagrams: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; readonly maxDatagramSize: number };

  constructor(
    readonly core: Connection,
    private readonly driver: Driver,
    readonly remote: { address: string; port: number },
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const conn = this;
    this.datagrams = {
      readable: new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            for (;;) {
              const d = conn.core.readDatagram();
              if (d !== undefined) return controller.enqueue(d);
              if (conn.closeInfo !== undefined) return controller.close();
              await new Promise<void>((resolve) => (conn.datagramWaiter = resolve));
            }
          },
        },
        { highWaterMark: 0 },
      ),
      writable: new WritableStream<Uint8Array>({
        write(chunk) {
          conn.core.sendDatagram(chunk);
          conn.driver.kick();
        },
      }),
      get maxDatagramSize(): number {
        return conn.core.maxDatagramPayload;
      },
    };
  }

  /** Streams the peer opens, as async iterators. */
  get incomingBidirectionalStreams(): AsyncIterableIterator<QuicStream> {
    return this.incomingBidi;
  }

  get incomingUnidirectionalStreams(): AsyncIterableIterator<QuicStream> {
    return this.incomingUni;
  }

  /** Opens a bidirectional stream, waiting for the peer's stream limit when needed. */
  createBidirectionalStream(opts: { signal?: AbortSignal } = {}): Promise<QuicStream> {
    return this.openStream(true, opts.signal);
  }

  /** Opens a unidirectional stream (only `writable`). */
  createUnidirectionalStream(opts: { signal?: AbortSignal } = {}): Promise<QuicStream> {
    return this.openStream(false, opts.signal);
  }

  private async openStream(bidi: boolean, signal: AbortSignal | undefined): Promise<QuicStream> {
    // With 0-RTT keys a stream may open before the handshake completes (its data goes out as 0-RTT).
    if (!this.core.canSendEarlyData) await this.ready;
    for (;;) {
      signal?.throwIfAborted();
      if (this.closeInfo !== undefined) throw new Error('connection closed');
      const id = this.core.openStream(bidi);
      if (id !== undefined) {
        const s = new QuicStream(this, id, bidi, true);
        this.streams.set(id, s);
        this.driver.kick();
        return s;
      }
      this.driver.kick(); // STREAMS_BLOCKED
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.streamWaiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** Closes with an application error code and reason; resolves when the connection has ended. */
  async close(opts: { closeCode?: number | bigint; reason?: string } = {}): Promise<CloseInfo> {
    this.core.close(opts.closeCode ?? 0, opts.reason ?? '', true, nowUs());
    this.driver.kick();
    return this.closed;
  }

  stats(): ConnectionStats {
    return this.core.stats();
  }

  /**
   * Migrates to a new local UDP socket (RFC 9000 §9.2): a new port, a new connection ID, the path validated
   * again. Rejects when the server sent disable_active_migration or gave no spare connection ID.
   */
  migrate(): Promise<void> {
    return this.driver.migrate(this);
  }

  /** Starts a 1-RTT key update (RFC 9001 §6) as soon as it is allowed. */
  updateKeys(): void {
    this.core.updateKeys();
    this.driver.kick();
  }

  // Used by QuicStream ---------------------------------------------------------------------------------------

  /** @internal */
  read(id: number): { data: Uint8Array; fin: boolean } | null {
    const r = this.core.streamRead(id, 1 << 16, nowUs());
    if (r !== null) this.driver.kick(); // MAX_STREAM_DATA / MAX_DATA may be due
    return r;
  }

  /** @internal */
  write(id: number, data: Uint8Array): number {
    if (this.closeInfo !== undefined) throw new Error('connection closed');
    const n = this.core.streamWrite(id, data);
    if (n > 0) this.driver.kick();
    return n;
  }

  /** @internal */
  finish(id: number): void {
    this.core.streamFinish(id);
    this.driver.kick();
  }

  /** @internal */
  resetStream(id: number, code: number | bigint): void {
    this.core.streamReset(id, code);
    this.driver.kick();
  }

  /** @internal */
  stopSending(id: number, code: number | bigint): void {
    this.core.streamStopSending(id, code, nowUs());
    this.driver.kick();
  }

  /** @internal: the endpoint hands over the core's events. */
  dispatch(e: ConnectionEvent): void {
    switch (e.type) {
      case 'handshake-done':
        this.resolveReady({ alpn: e.alpn, resumed: e.resumed, cipherSuite: e.cipherSuite });
        break;
      case 'stream-opened': {
        const local = this.core.streams.isLocal(e.streamId);
        const s = new QuicStream(this, e.streamId, true, e.bidirectional || local);
        this.streams.set(e.streamId, s);
        (e.bidirectional ? this.incomingBidi : this.incomingUni).push(s);
        break;
      }
      case 'stream-readable':
        this.streams.get(e.streamId)?.wakeRead();
        break;
      case 'stream-writable':
        this.streams.get(e.streamId)?.wakeWrite();
        break;
      case 'stream-reset':
        this.streams.get(e.streamId)?.failRead(new StreamError(`stream ${e.streamId} reset by the peer`, e.errorCode));
        break;
      case 'stream-stopped':
        this.streams.get(e.streamId)?.failWrite(new StreamError(`the peer stopped reading stream ${e.streamId}`, e.errorCode));
        break;
      case 'streams-available':
        for (const w of this.streamWaiters.splice(0)) w();
        break;
      case 'datagrams-readable':
        this.wakeDatagrams();
        break;
      case 'session-ticket':
        this.session = e.session;
        this.onSessionTicket?.(e.session);
        break;
      case 'new-token':
        this.addressToken = e.token;
        break;
      case 'closed': {
        const info: CloseInfo = { errorCode: e.errorCode, reason: e.reason, isApplication: e.isApplication, byPeer: e.byPeer, idle: e.idle };
        this.closeInfo = info;
        // Application codes (HTTP/3's among them) are not transport error codes: they get their own error type.
        const err = e.isApplication ? new ApplicationCloseError(info) : new QuicError(typeof e.errorCode === 'number' ? e.errorCode : 0, e.reason || 'connection closed');
        this.rejectReady(err);
        for (const s of this.streams.values()) {
          s.failRead(err);
          s.failWrite(err);
        }
        for (const w of this.streamWaiters.splice(0)) w();
        this.wakeDatagrams();
        this.incomingBidi.end();
        this.incomingUni.end();
        this.resolveClosed(info);
        break;
      }
    }
  }

  private wakeDatagrams(): void {
    const w = this.datagramWaiter;
    this.datagramWaiter = undefined;
    w?.();
  }

  /** @internal: wake every stream (after a batch of datagrams, data may be readable or writable). */
  wakeAll(): void {
    for (const s of this.streams.values()) {
      s.wakeRead();
      s.wakeWrite();
    }
  }
}
