// An HTTP/3 connection (RFC 9114) over a gquic QuicConnection: the control stream and SETTINGS, the QPACK
// encoder and decoder streams, request streams with HEADERS, DATA and trailers, GOAWAY, PRIORITY_UPDATE, and
// reserved (grease) settings, frames and streams. Errors become connection closes or stream resets with the
// RFC 9114 §8.1 / RFC 9204 §6 codes. Server push is not offered (no MAX_PUSH_ID is ever sent), so any push
// stream or PUSH_PROMISE from a server is H3_ID_ERROR.
//
// This is the low-level API: `request()` on a client, `requests` on a server, with field lines and Web Streams.
// client.ts and server.ts put fetch's Request and Response on top.

import { AsyncQueue, type QuicConnection, type QuicStream } from '@gquic/node';
import { BufferReader } from '@gquic/wire';
import { H3Error, H3ErrorCode, h3ErrorName } from './errors.js';
import { FrameType, StreamType, encodeFrame, encodeFrameHeader, encodePriorityUpdate, encodeStreamType, encodeVarintFrame, isHttp2OnlyFrame, reservedCode, varintBytes } from './frames.js';
import { checkTrailers, contentLength, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './message.js';
import { formatPriority, parsePriority, type Priority } from './priority.js';
import { QpackDecoder, type FieldLine } from './qpack/decoder.js';
import { QpackEncoder } from './qpack/encoder.js';
import { QpackError } from './qpack/errors.js';
import { INITIAL_SETTINGS, MAX_SETTINGS_FRAME, decodeSettings, encodeSettings, type H3Settings } from './settings.js';
import { StreamReader, type FrameHeader } from './stream-reader.js';

export interface H3Options {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY: the dynamic table the peer's encoder may use in our decoder (4096). */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (100). */
  qpackBlockedStreams?: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE, and the limit our decoder enforces (64 KiB). */
  maxFieldSectionSize?: number;
  /** Our encoder's table size, whatever the peer allows (4096). */
  encoderTableCapacity?: number;
  /** RFC 9220 Extended CONNECT (server: SETTINGS_ENABLE_CONNECT_PROTOCOL). */
  enableConnectProtocol?: boolean;
  /** RFC 9297 SETTINGS_H3_DATAGRAM. */
  h3Datagram?: boolean;
  /** Send reserved settings, frames and a reserved stream type (default true). */
  grease?: boolean;
}

/** A message as received: its field section, a streaming body, and the trailers once the body is done. */
export interface IncomingBody {
  body: ReadableStream<Uint8Array>;
  trailers: Promise<FieldLine[] | undefined>;
}

export interface ServerExchange extends IncomingBody {
  readonly streamId: number;
  readonly head: RequestHead;
  /** The request's priority (Priority field, then PRIORITY_UPDATE frames). */
  readonly priority: Priority;
  /** Sends the response; `body` streams as DATA frames; resolves once all is written (FIN sent). */
  respond(status: number, headers: readonly FieldLine[], body?: ReadableStream<Uint8Array> | Uint8Array | null, trailers?: readonly FieldLine[]): Promise<void>;
  /** Resets the stream (and stops reading it) with an H3 code. */
  abort(code?: number): void;
}

export interface ClientResponse extends IncomingBody, ResponseHead {
  readonly streamId: number;
}

const MAX_HEADERS_FRAME = 256 * 1024;
/** HTTP Datagrams held per request stream until read (oldest dropped), and for streams not seen yet in all. */
const DATAGRAM_QUEUE = 64;
const DATAGRAM_ORPHANS = 256;

/** Frames that belong on the control stream only (§7.2). */
const CONTROL_ONLY: ReadonlySet<number> = new Set([FrameType.SETTINGS, FrameType.GOAWAY, FrameType.MAX_PUSH_ID, FrameType.CANCEL_PUSH, FrameType.PRIORITY_UPDATE_REQUEST, FrameType.PRIORITY_UPDATE_PUSH]);

/** §9: reserved and unknown frame types are skipped; HTTP/2-only ones are H3_FRAME_UNEXPECTED (§7.2.8). */
async function skipFrame(r: StreamReader, fh: FrameHeader): Promise<void> {
  if (isHttp2OnlyFrame(fh.type)) throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, `HTTP/2 frame type 0x${fh.type.toString(16)}`);
  await r.skip(fh.length);
}

export class H3Session {
  readonly peerSettings: Promise<H3Settings>;
  /** Resolves when the session ends (the QUIC connection closed). */
  readonly closed: Promise<void>;
  /** Server: requests as they arrive. */
  readonly requests = new AsyncQueue<ServerExchange>();
  /** The last GOAWAY ID the peer sent (client: the first stream it will not process). */
  goawayReceived: number | undefined;
  /** The GOAWAY ID we sent. */
  goawaySent: number | undefined;
  private settingsIn: H3Settings = { ...INITIAL_SETTINGS };
  private resolveSettings!: (s: H3Settings) => void;
  private readonly encoder: QpackEncoder;
  private readonly decoder: QpackDecoder;
  private readonly local: H3Settings;
  private control: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private encoderOut: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private decoderOut: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private readonly opened: Promise<void>;
  private readonly peerStreams = new Set<number>();
  private readonly waiting = new Map<number, { resolve: (l: FieldLine[]) => void; reject: (e: unknown) => void }>();
  private readonly priorities = new Map<number, Priority>();
  private failed: H3Error | undefined;
  /** Server: the highest request stream id seen (for GOAWAY). */
  private maxRequestId = -4;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly grease: boolean;
  /** RFC 9297: received HTTP Datagrams per request stream, and readers waiting for them. */
  private readonly dgramIn = new Map<number, Uint8Array[]>();
  private readonly dgramWake = new Map<number, () => void>();
  private dgramOut: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(
    readonly conn: QuicConnection,
    readonly role: 'client' | 'server',
    opts: H3Options = {},
  ) {
    this.grease = opts.grease ?? true;
    const maxField = opts.maxFieldSectionSize ?? 65536;
    this.local = {
      qpackMaxTableCapacity: opts.qpackMaxTableCapacity ?? 4096,
      qpackBlockedStreams: opts.qpackBlockedStreams ?? 100,
      maxFieldSectionSize: maxField,
      enableConnectProtocol: opts.enableConnectProtocol ?? false,
      h3Datagram: opts.h3Datagram ?? false,
    };
    this.encoder = new QpackEncoder({ maxTableCapacity: opts.encoderTableCapacity ?? 4096 });
    this.decoder = new QpackDecoder({ maxTableCapacity: this.local.qpackMaxTableCapacity, maxBlockedStreams: this.local.qpackBlockedStreams, maxFieldSectionSize: maxField });
    this.peerSettings = new Promise((r) => (this.resolveSettings = r));
    this.closed = conn.closed.then(() => {
      this.requests.end();
      for (const wake of this.dgramWake.values()) wake();
      this.dgramWake.clear();
      for (const w of this.waiting.values()) w.reject(new H3Error(H3ErrorCode.REQUEST_CANCELLED, 'connection closed'));
      this.waiting.clear();
    });
    this.opened = this.openLocalStreams();
    this.opened.catch((e) => this.fail(e));
    void this.acceptUni().catch((e) => this.fail(e));
    if (this.local.h3Datagram) void this.readDatagrams().catch((e) => this.fail(e));
    if (role === 'server') void this.acceptRequests().catch((e) => this.fail(e));
  }

  /** The peer's settings as known now (the initial values until its SETTINGS frame arrived). */
  get settings(): Readonly<H3Settings> {
    return this.settingsIn;
  }

  get localSettings(): Readonly<H3Settings> {
    return this.local;
  }

  // ------------------------------------------------------------------------------------------------------
  // Connection-level streams

  /** §6.2.1, RFC 9204 §4.2: control, QPACK encoder and decoder streams; SETTINGS first on the control stream. */
  private async openLocalStreams(): Promise<void> {
    const rand = (): number => Math.floor(Math.random() * 0x10000);
    const control = (await this.conn.createUnidirectionalStream()).writable!.getWriter();
    this.control = control;
    void control.write(encodeStreamType(StreamType.CONTROL));
    void control.write(encodeFrame(FrameType.SETTINGS, encodeSettings(this.local, this.grease ? rand() : undefined)));
    // §7.2.8: a reserved frame type, to be ignored.
    if (this.grease) void control.write(encodeFrame(reservedCode(rand()), new Uint8Array(rand() % 8)));
    const enc = (await this.conn.createUnidirectionalStream()).writable!.getWriter();
    void enc.write(encodeStreamType(StreamType.QPACK_ENCODER));
    this.encoderOut = enc;
    const dec = (await this.conn.createUnidirectionalStream()).writable!.getWriter();
    void dec.write(encodeStreamType(StreamType.QPACK_DECODER));
    this.decoderOut = dec;
    // §6.2.3: a reserved stream type, only when the peer allows more than the three streams HTTP/3 needs.
    const uniLimit = this.conn.core.peerParams?.initialMaxStreamsUni ?? 0;
    if (this.grease && uniLimit > 3) {
      const g = (await this.conn.createUnidirectionalStream()).writable!.getWriter();
      await g.write(encodeStreamType(reservedCode(rand())));
      await g.write(new Uint8Array(rand() % 16));
      await g.close().catch(() => undefined);
    }
  }

  private async acceptUni(): Promise<void> {
    for await (const s of this.conn.incomingUnidirectionalStreams) {
      void this.onUniStream(s).catch((e) => this.fail(e));
    }
  }

  /** §6.2: the stream type decides; one control, encoder and decoder stream each; unknown types are refused. */
  private async onUniStream(s: QuicStream): Promise<void> {
    const r = new StreamReader(s.readable!);
    let type: number | null;
    try {
      type = await r.varint();
    } catch (e) {
      if (e instanceof H3Error) throw e;
      return; // reset before its type arrived: nothing to do (§6.2)
    }
    if (type === null) return;
    try {
      await this.readUniStream(r, type);
    } catch (e) {
      // §6.2.1: a critical stream reset by the peer (a transport stream error, not an HTTP/3 one of ours) is
      // H3_CLOSED_CRITICAL_STREAM.
      if (e instanceof H3Error || e instanceof QpackError || !this.peerStreams.has(type)) throw e;
      throw new H3Error(H3ErrorCode.CLOSED_CRITICAL_STREAM, `critical stream 0x${type.toString(16)} failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private async readUniStream(r: StreamReader, type: number): Promise<void> {
    const critical = (name: string): void => {
      if (this.peerStreams.has(type)) throw new H3Error(H3ErrorCode.STREAM_CREATION_ERROR, `a second ${name} stream`);
      this.peerStreams.add(type);
    };
    switch (type) {
      case StreamType.CONTROL:
        critical('control');
        return this.readControl(r);
      case StreamType.QPACK_ENCODER:
        critical('QPACK encoder');
        for (;;) {
          if (await r.atEnd()) throw new H3Error(H3ErrorCode.CLOSED_CRITICAL_STREAM, 'QPACK encoder stream closed');
          const data = await r.upTo(65536);
          for (const id of this.decoder.onEncoderStream(data)) {
            const w = this.waiting.get(id);
            const lines = this.decoder.resume(id);
            if (w !== undefined && lines !== undefined) {
              this.waiting.delete(id);
              w.resolve(lines);
            }
          }
          this.flushDecoder();
        }
      case StreamType.QPACK_DECODER:
        critical('QPACK decoder');
        for (;;) {
          if (await r.atEnd()) throw new H3Error(H3ErrorCode.CLOSED_CRITICAL_STREAM, 'QPACK decoder stream closed');
          this.encoder.onDecoderStream(await r.upTo(65536));
        }
      case StreamType.PUSH:
        // §6.2.2: only servers push, and only up to a MAX_PUSH_ID we never sent.
        throw new H3Error(this.role === 'server' ? H3ErrorCode.STREAM_CREATION_ERROR : H3ErrorCode.ID_ERROR, 'push stream without MAX_PUSH_ID');
      default:
        // §6.2: unknown or reserved stream types are not read.
        await r.cancel(H3ErrorCode.STREAM_CREATION_ERROR);
    }
  }

  /** §6.2.1, §7.2: SETTINGS first, then GOAWAY, MAX_PUSH_ID, CANCEL_PUSH, PRIORITY_UPDATE; the stream never ends. */
  private async readControl(r: StreamReader): Promise<void> {
    let first = true;
    for (;;) {
      const fh = await r.frameHeader();
      if (fh === null) throw new H3Error(H3ErrorCode.CLOSED_CRITICAL_STREAM, 'control stream closed');
      if (first && fh.type !== FrameType.SETTINGS) throw new H3Error(H3ErrorCode.MISSING_SETTINGS, 'the control stream does not start with SETTINGS');
      switch (fh.type) {
        case FrameType.SETTINGS: {
          if (!first) throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, 'a second SETTINGS frame');
          if (fh.length > MAX_SETTINGS_FRAME) throw new H3Error(H3ErrorCode.EXCESSIVE_LOAD, 'SETTINGS frame too large');
          const s = decodeSettings(await r.bytes(fh.length));
          this.settingsIn = s;
          this.encoder.applyPeerSettings(s.qpackMaxTableCapacity, s.qpackBlockedStreams);
          this.flushEncoder();
          this.resolveSettings(s);
          break;
        }
        case FrameType.GOAWAY: {
          const id = this.varintPayload(await r.bytes(Math.min(fh.length, 16)), fh.length);
          // §5.2: client-initiated bidirectional stream ids from a server; the id never increases.
          if (this.role === 'client' && id % 4 !== 0) throw new H3Error(H3ErrorCode.ID_ERROR, `GOAWAY with stream id ${id}`);
          if (this.goawayReceived !== undefined && id > this.goawayReceived) throw new H3Error(H3ErrorCode.ID_ERROR, 'GOAWAY id increased');
          this.goawayReceived = id;
          break;
        }
        case FrameType.MAX_PUSH_ID:
          if (this.role === 'client') throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
          this.varintPayload(await r.bytes(Math.min(fh.length, 16)), fh.length);
          break;
        case FrameType.CANCEL_PUSH:
          // No push was ever allowed: any push id is beyond our (absent) MAX_PUSH_ID.
          throw new H3Error(H3ErrorCode.ID_ERROR, 'CANCEL_PUSH without push');
        case FrameType.PRIORITY_UPDATE_REQUEST:
        case FrameType.PRIORITY_UPDATE_PUSH: {
          // RFC 9218 §7.2: only clients send it; we keep what it says about request streams.
          if (this.role === 'client') throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, 'PRIORITY_UPDATE from a server');
          if (fh.length > 1024) throw new H3Error(H3ErrorCode.EXCESSIVE_LOAD, 'PRIORITY_UPDATE too large');
          const b = await r.bytes(fh.length);
          const br = new BufferReader(b, 0, b.length, H3ErrorCode.FRAME_ERROR);
          const id = br.varint(H3ErrorCode.ID_ERROR);
          if (fh.type === FrameType.PRIORITY_UPDATE_PUSH) throw new H3Error(H3ErrorCode.ID_ERROR, 'PRIORITY_UPDATE for a push');
          if (id % 4 !== 0) throw new H3Error(H3ErrorCode.ID_ERROR, `PRIORITY_UPDATE for stream ${id}`);
          const p = parsePriority(new TextDecoder().decode(b.subarray(br.pos)));
          // Updates for streams not open yet are kept, within a bound (RFC 9218 §7.1 lets us drop them).
          if (this.priorities.size < 1024 || this.priorities.has(id)) this.setPriority(id, p);
          break;
        }
        case FrameType.DATA:
        case FrameType.HEADERS:
        case FrameType.PUSH_PROMISE:
          throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${fh.type.toString(16)} on the control stream`);
        default:
          await skipFrame(r, fh);
      }
      first = false;
    }
  }

  /** A payload that is exactly one varint (§7.2.6, §7.2.7). */
  private varintPayload(b: Uint8Array, length: number): number {
    const r = new BufferReader(b, 0, b.length, H3ErrorCode.FRAME_ERROR);
    const v = r.varint(H3ErrorCode.ID_ERROR);
    if (r.pos !== length) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'frame payload longer than its field');
    return v;
  }

  /** QPACK stream output, in order, once our streams are open (instructions are never dropped). */
  private qpackOut: Promise<unknown> | undefined;

  private sendQpack(which: 'encoder' | 'decoder', b: Uint8Array): void {
    const write = (): Promise<unknown> => (which === 'encoder' ? this.encoderOut : this.decoderOut)!.write(b).catch(() => undefined);
    if (this.encoderOut !== undefined && this.qpackOut === undefined) {
      void write();
      return;
    }
    this.qpackOut = (this.qpackOut ?? this.opened).then(write, () => undefined);
  }

  private flushEncoder(): void {
    const b = this.encoder.takeEncoderStream();
    if (b !== undefined) this.sendQpack('encoder', b);
  }

  private flushDecoder(): void {
    const b = this.decoder.takeDecoderStream();
    if (b !== undefined) this.sendQpack('decoder', b);
  }

  /** Closes the connection for a connection error (§8); stream errors reset only their stream. */
  fail(e: unknown): void {
    if (this.failed !== undefined) return;
    const err = e instanceof H3Error ? e : e instanceof QpackError ? new H3Error(e.code, e.message) : undefined;
    if (err === undefined) {
      // A closed connection surfaces as stream errors here: nothing more to do.
      if (this.conn.core.isClosed || this.conn.core.state === 'closing' || this.conn.core.state === 'draining') return;
      this.failed = new H3Error(H3ErrorCode.INTERNAL_ERROR, (e as Error)?.message ?? String(e));
    } else this.failed = err;
    void this.conn.close({ closeCode: this.failed.code, reason: this.failed.reason.slice(0, 200) });
  }

  // ------------------------------------------------------------------------------------------------------
  // HTTP Datagrams (RFC 9297 §2.1): QUIC DATAGRAM frames carrying a Quarter Stream ID and a payload.

  /** Both sides sent SETTINGS_H3_DATAGRAM=1 and the transport negotiated DATAGRAM frames. */
  get datagramsAvailable(): boolean {
    return this.local.h3Datagram && this.settingsIn.h3Datagram && this.conn.datagrams.maxDatagramSize > 0;
  }

  private async readDatagrams(): Promise<void> {
    const reader = this.conn.datagrams.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const r = new BufferReader(value, 0, value.length, H3ErrorCode.DATAGRAM_ERROR);
      let q: number;
      try {
        q = r.varint(H3ErrorCode.DATAGRAM_ERROR);
      } catch {
        throw new H3Error(H3ErrorCode.DATAGRAM_ERROR, 'malformed HTTP Datagram');
      }
      // §2.1: the Quarter Stream ID is at most 2^60 - 1 (stream ids are below 2^62).
      if (q >= 2 ** 60) throw new H3Error(H3ErrorCode.DATAGRAM_ERROR, 'Quarter Stream ID out of range');
      const id = q * 4;
      let queue = this.dgramIn.get(id);
      if (queue === undefined) {
        // A stream we have not seen yet: buffer a little (§2.1 allows dropping).
        if (this.dgramIn.size >= DATAGRAM_ORPHANS) continue;
        this.dgramIn.set(id, (queue = []));
      }
      if (queue.length >= DATAGRAM_QUEUE) queue.shift();
      queue.push(value.slice(r.pos));
      const wake = this.dgramWake.get(id);
      this.dgramWake.delete(id);
      wake?.();
    }
  }

  /**
   * The HTTP Datagrams of request stream `streamId` (RFC 9297): `readable` yields payloads as they arrive (a
   * bounded queue, oldest dropped), `send` writes one (unreliable; false when it cannot be sent now).
   */
  datagrams(streamId: number): { readable: ReadableStream<Uint8Array>; send(payload: Uint8Array): Promise<boolean> } {
    if (!this.dgramIn.has(streamId)) this.dgramIn.set(streamId, []);
    const readable = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            const q = this.dgramIn.get(streamId);
            const d = q?.shift();
            if (d !== undefined) {
              controller.enqueue(d);
              return;
            }
            if (this.conn.core.isClosed) {
              controller.close();
              return;
            }
            await new Promise<void>((r) => this.dgramWake.set(streamId, r));
          }
        },
        cancel: () => {
          this.dgramIn.delete(streamId);
        },
      },
      { highWaterMark: 0 },
    );
    const send = async (payload: Uint8Array): Promise<boolean> => {
      if (!this.datagramsAvailable) return false;
      const prefix = varintBytes(streamId / 4);
      const d = new Uint8Array(prefix.length + payload.length);
      d.set(prefix);
      d.set(payload, prefix.length);
      if (d.length > this.conn.datagrams.maxDatagramSize) return false;
      this.dgramOut ??= this.conn.datagrams.writable.getWriter();
      await this.dgramOut.write(d);
      return true;
    };
    return { readable, send };
  }

  // ------------------------------------------------------------------------------------------------------
  // Messages

  private setPriority(streamId: number, p: Priority): void {
    this.priorities.set(streamId, p);
    this.conn.core.setStreamPriority(streamId, p.urgency, p.incremental);
  }

  /** Decodes a field section, waiting for the encoder stream when it is blocked (RFC 9204 §2.2.1). */
  private decodeSection(streamId: number, block: Uint8Array): Promise<FieldLine[]> {
    const lines = this.decoder.decode(streamId, block);
    this.flushDecoder();
    if (lines !== undefined) return Promise.resolve(lines);
    return new Promise((resolve, reject) => this.waiting.set(streamId, { resolve, reject }));
  }

  /** A HEADERS frame's payload (bounded), decoded. */
  private async readFieldSection(r: StreamReader, streamId: number, fh: FrameHeader): Promise<FieldLine[]> {
    if (fh.length > MAX_HEADERS_FRAME) throw new H3Error(H3ErrorCode.EXCESSIVE_LOAD, 'HEADERS frame too large');
    return this.decodeSection(streamId, await r.bytes(fh.length));
  }

  /** The next HEADERS frame's field lines, or null when the stream ends first. Unknown frames are skipped. */
  private async readHeaders(r: StreamReader, streamId: number): Promise<FieldLine[] | null> {
    for (;;) {
      const fh = await r.frameHeader();
      if (fh === null) return null;
      switch (fh.type) {
        case FrameType.HEADERS:
          return this.readFieldSection(r, streamId, fh);
        case FrameType.DATA:
          throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, 'DATA before HEADERS');
        case FrameType.PUSH_PROMISE:
          throw new H3Error(this.role === 'client' ? H3ErrorCode.ID_ERROR : H3ErrorCode.FRAME_UNEXPECTED, 'PUSH_PROMISE without MAX_PUSH_ID');
        default:
          if (CONTROL_ONLY.has(fh.type)) throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${fh.type.toString(16)} on a request stream`);
          await skipFrame(r, fh);
      }
    }
  }

  /**
   * The body of a message as a ReadableStream of DATA payloads (§4.1), then optional trailers; the stream must end
   * after them. content-length, when given, must equal the body size (§4.1.2: H3_MESSAGE_ERROR).
   */
  private incomingBody(r: StreamReader, streamId: number, expected: number | undefined, onError: (e: unknown) => void): IncomingBody {
    let resolveTrailers!: (t: FieldLine[] | undefined) => void;
    const trailers = new Promise<FieldLine[] | undefined>((res) => (resolveTrailers = res));
    let inFrame = 0;
    let total = 0;
    const finish = (): void => {
      if (expected !== undefined && total !== expected) throw new H3Error(H3ErrorCode.MESSAGE_ERROR, `content-length ${expected} but ${total} bytes of DATA`, false);
    };
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            for (;;) {
              if (inFrame > 0) {
                const chunk = await r.upTo(inFrame);
                inFrame -= chunk.length;
                total += chunk.length;
                if (expected !== undefined && total > expected) throw new H3Error(H3ErrorCode.MESSAGE_ERROR, `more DATA than content-length ${expected}`, false);
                controller.enqueue(chunk.slice());
                return;
              }
              const fh = await r.frameHeader();
              if (fh === null) {
                finish();
                resolveTrailers(undefined);
                controller.close();
                return;
              }
              if (fh.type === FrameType.DATA) {
                inFrame = fh.length;
                continue;
              }
              if (fh.type === FrameType.HEADERS) {
                const t = checkTrailers(await this.readFieldSection(r, streamId, fh));
                // §4.1: nothing but unknown frames may follow the trailers.
                for (let next = await r.frameHeader(); next !== null; next = await r.frameHeader()) {
                  if (next.type === FrameType.DATA || next.type === FrameType.HEADERS) throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, 'frame after trailers');
                  await skipFrame(r, next);
                }
                finish();
                resolveTrailers(t);
                controller.close();
                return;
              }
              if (fh.type === FrameType.PUSH_PROMISE || CONTROL_ONLY.has(fh.type)) throw new H3Error(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${fh.type.toString(16)} in a message body`);
              await skipFrame(r, fh);
            }
          } catch (e) {
            resolveTrailers(undefined);
            onError(e);
            throw e;
          }
        },
        cancel: async () => {
          // §4.1.1: a body nobody reads: stop the peer; QPACK references on it are void (RFC 9204 §4.4.2).
          this.decoder.cancelStream(streamId);
          this.flushDecoder();
          await r.cancel(H3ErrorCode.REQUEST_CANCELLED);
          resolveTrailers(undefined);
        },
      },
      { highWaterMark: 0 },
    );
    return { body, trailers };
  }

  /** Writes a message: HEADERS, the body as DATA frames, optional trailers, then FIN. */
  private async writeMessage(w: WritableStreamDefaultWriter<Uint8Array>, streamId: number, lines: readonly FieldLine[], body: ReadableStream<Uint8Array> | Uint8Array | null | undefined, trailers?: readonly FieldLine[]): Promise<void> {
    await w.write(this.headersFrame(streamId, lines));
    if (body instanceof Uint8Array) {
      if (body.length > 0) {
        await w.write(encodeFrameHeader(FrameType.DATA, body.length));
        await w.write(body);
      }
    } else if (body !== null && body !== undefined) {
      const reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value.length === 0) continue;
          await w.write(encodeFrameHeader(FrameType.DATA, value.length));
          await w.write(value);
        }
      } finally {
        reader.releaseLock();
      }
    }
    if (trailers !== undefined && trailers.length > 0) await w.write(this.headersFrame(streamId, trailers));
    await w.close();
  }

  /** A HEADERS frame; the encoder stream instructions it needs go out first (RFC 9204 §2.1.2). */
  private headersFrame(streamId: number, lines: readonly FieldLine[]): Uint8Array {
    let size = 0;
    for (const [n, v] of lines) size += n.length + v.length + 32;
    // §4.2.2: respect the peer's SETTINGS_MAX_FIELD_SECTION_SIZE.
    if (size > this.settingsIn.maxFieldSectionSize) throw new H3Error(H3ErrorCode.EXCESSIVE_LOAD, `field section of ${size} octets exceeds the peer's limit ${this.settingsIn.maxFieldSectionSize}`, false);
    const block = this.encoder.encode(streamId, lines);
    this.flushEncoder();
    return encodeFrame(FrameType.HEADERS, block);
  }

  // ------------------------------------------------------------------------------------------------------
  // Client

  /**
   * Sends a request and resolves with the response head (interim 1xx responses are skipped) and its streaming
   * body. `lines` are the request's field lines, pseudo-headers first.
   */
  async request(lines: readonly FieldLine[], body?: ReadableStream<Uint8Array> | Uint8Array | null, opts: { signal?: AbortSignal; priority?: Priority; trailers?: readonly FieldLine[] } = {}): Promise<ClientResponse> {
    if (this.role !== 'client') throw new Error('request() is for clients');
    if (this.failed !== undefined) throw this.failed;
    if (this.goawayReceived !== undefined) throw new H3Error(H3ErrorCode.REQUEST_REJECTED, 'the server sent GOAWAY', false);
    const s = await this.conn.createBidirectionalStream(opts.signal === undefined ? {} : { signal: opts.signal });
    const id = s.id;
    if (opts.priority !== undefined) this.conn.core.setStreamPriority(id, opts.priority.urgency, opts.priority.incremental);
    const w = s.writable!.getWriter();
    const abort = (code: number): void => {
      void w.abort({ code }).catch(() => undefined);
      void s.readable!.cancel({ code }).catch(() => undefined);
    };
    const onAbort = (): void => abort(H3ErrorCode.REQUEST_CANCELLED);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const writing = this.writeMessage(w, id, lines, body, opts.trailers).catch((e) => {
      if (e instanceof H3Error && !e.connection) abort(e.code);
      else if (e instanceof H3Error) this.fail(e);
    });
    this.track(writing);
    const r = new StreamReader(s.readable!);
    try {
      for (;;) {
        const head = await this.readHeaders(r, id);
        if (head === null) throw new H3Error(H3ErrorCode.REQUEST_INCOMPLETE, 'the stream ended without a response', false);
        const res = parseResponseHead(head);
        if (res.status < 200) continue; // §4.1: interim responses precede the final one
        const { body: resBody, trailers } = this.incomingBody(r, id, contentLength(res.headers), (e) => this.streamError(e, abort));
        void trailers.finally(() => opts.signal?.removeEventListener('abort', onAbort));
        return { streamId: id, status: res.status, headers: res.headers, body: resBody, trailers };
      }
    } catch (e) {
      opts.signal?.removeEventListener('abort', onAbort);
      this.streamError(e, abort);
      throw e;
    }
  }

  /** Client: reprioritizes a request (RFC 9218 §7.2: a PRIORITY_UPDATE frame on the control stream). */
  async updatePriority(streamId: number, p: Priority): Promise<void> {
    if (this.role !== 'client') throw new Error('PRIORITY_UPDATE is sent by clients');
    await this.opened;
    this.conn.core.setStreamPriority(streamId, p.urgency, p.incremental);
    await this.control!.write(encodePriorityUpdate(streamId, formatPriority(p)));
  }

  /** A stream-level error resets the stream; a connection-level one closes the connection. */
  private streamError(e: unknown, abort: (code: number) => void): void {
    if (e instanceof H3Error && !e.connection) abort(e.code);
    else if (e instanceof H3Error || e instanceof QpackError) this.fail(e);
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  // ------------------------------------------------------------------------------------------------------
  // Server

  private async acceptRequests(): Promise<void> {
    for await (const s of this.conn.incomingBidirectionalStreams) {
      // §6.1: clients open bidirectional streams; GOAWAY refuses the ones at or past its id.
      if (this.goawaySent !== undefined && s.id >= this.goawaySent) {
        void s.writable!.abort({ code: H3ErrorCode.REQUEST_REJECTED }).catch(() => undefined);
        void s.readable!.cancel({ code: H3ErrorCode.REQUEST_REJECTED }).catch(() => undefined);
        continue;
      }
      if (s.id > this.maxRequestId) this.maxRequestId = s.id;
      void this.onRequestStream(s);
    }
  }

  private async onRequestStream(s: QuicStream): Promise<void> {
    const id = s.id;
    const w = s.writable!.getWriter();
    const abort = (code: number): void => {
      void w.abort({ code }).catch(() => undefined);
      void s.readable!.cancel({ code }).catch(() => undefined);
    };
    const r = new StreamReader(s.readable!);
    let head: RequestHead;
    try {
      const lines = await this.readHeaders(r, id);
      if (lines === null) throw new H3Error(H3ErrorCode.REQUEST_INCOMPLETE, 'the stream ended before a request', false);
      head = parseRequestHead(lines, this.local.enableConnectProtocol);
    } catch (e) {
      this.streamError(e, abort);
      return;
    }
    const priority = this.priorities.get(id) ?? parsePriority(head.headers.find(([n]) => n === 'priority')?.[1]);
    this.setPriority(id, priority);
    let body: IncomingBody;
    try {
      body = this.incomingBody(r, id, contentLength(head.headers), (e) => this.streamError(e, abort));
    } catch (e) {
      this.streamError(e, abort);
      return;
    }
    let responded = false;
    // The exchange counts as in flight (for GOAWAY's grace period) until its response is written or it is aborted.
    let settle!: () => void;
    this.track(new Promise<void>((r) => (settle = r)));
    const exchange: ServerExchange = {
      streamId: id,
      head,
      priority,
      ...body,
      respond: async (status, headers, resBody, trailers) => {
        if (responded) throw new Error('already responded');
        responded = true;
        const lines: FieldLine[] = [[':status', String(status)], ...headers];
        try {
          await this.writeMessage(w, id, lines, resBody, trailers);
        } catch (e) {
          this.streamError(e, abort);
          throw e;
        } finally {
          this.priorities.delete(id);
          settle();
        }
      },
      abort: (code = H3ErrorCode.REQUEST_CANCELLED) => {
        abort(code);
        settle();
      },
    };
    this.requests.push(exchange);
  }

  /**
   * Graceful shutdown (§5.2): a server sends GOAWAY with the first request it will not process, waits for the
   * ones in flight (at most `graceMs`), then closes with H3_NO_ERROR. A client sends GOAWAY 0 (no pushes).
   */
  async shutdown(graceMs = 5000): Promise<void> {
    if (this.goawaySent === undefined) {
      this.goawaySent = this.role === 'server' ? this.maxRequestId + 4 : 0;
      await this.opened.catch(() => undefined);
      await this.control?.write(encodeVarintFrame(FrameType.GOAWAY, this.goawaySent)).catch(() => undefined);
    }
    const all = Promise.allSettled([...this.inflight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.conn.close({ closeCode: H3ErrorCode.NO_ERROR, reason: '' });
  }

  /** Closes at once with an H3 code. */
  async close(code: number = H3ErrorCode.NO_ERROR, reason = ''): Promise<void> {
    await this.conn.close({ closeCode: code, reason });
  }

  toString(): string {
    return `H3Session(${this.role}${this.failed !== undefined ? `, failed ${h3ErrorName(this.failed.code)}` : ''})`;
  }
}
