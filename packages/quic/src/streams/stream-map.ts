// Stream identifiers and limits (RFC 9000 §2.1, §4.6): opening our streams within the peer's MAX_STREAMS,
// accepting the peer's within ours (implicitly opening lower-numbered ones, §3.2), raising our limit as the
// peer's streams finish, and the errors for frames on streams that cannot exist.

import { QuicError, TransportErrorCode } from '@gquic/wire';
import { RecvStream } from './recv-stream.js';
import { SendStream } from './send-stream.js';

export const isBidi = (id: number): boolean => (id & 0x2) === 0;
export const isClientInitiated = (id: number): boolean => (id & 0x1) === 0;

export interface StreamWindows {
  /** Our receive windows (what we advertise in transport parameters). */
  bidiLocal: number;
  bidiRemote: number;
  uni: number;
  maxWindow: number;
  /** Peer-initiated streams we allow open at once. */
  maxStreamsBidi: number;
  maxStreamsUni: number;
  /** Unacknowledged bytes per stream we buffer from the application. */
  sendBufferLimit: number;
}

export interface PeerStreamLimits {
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
}

export class StreamMap {
  readonly send = new Map<number, SendStream>();
  readonly recv = new Map<number, RecvStream>();
  /** Count of streams we opened, per type. */
  private openedBidi = 0;
  private openedUni = 0;
  /** The peer's limits on our streams (MAX_STREAMS). */
  peerMaxBidi = 0;
  peerMaxUni = 0;
  /** Our limits on the peer's streams, as advertised, and how many it opened. */
  localMaxBidi: number;
  localMaxUni: number;
  private peerOpenedBidi = 0;
  private peerOpenedUni = 0;
  /** Peer streams fully closed (so the limit can be raised). */
  private peerClosedBidi = 0;
  private peerClosedUni = 0;
  maxStreamsBidiPending = false;
  maxStreamsUniPending = false;
  /** STREAMS_BLOCKED to send at this limit (-1: none). */
  blockedBidiAt = -1;
  blockedUniAt = -1;
  /** Streams the peer opened, not yet announced to the application. */
  readonly newPeerStreams: number[] = [];
  private peer: PeerStreamLimits | undefined;

  constructor(
    readonly isServer: boolean,
    readonly windows: StreamWindows,
  ) {
    this.localMaxBidi = windows.maxStreamsBidi;
    this.localMaxUni = windows.maxStreamsUni;
  }

  /** The peer's transport parameters arrived. */
  setPeerLimits(p: PeerStreamLimits): void {
    this.peer = p;
    this.peerMaxBidi = Math.max(this.peerMaxBidi, p.initialMaxStreamsBidi);
    this.peerMaxUni = Math.max(this.peerMaxUni, p.initialMaxStreamsUni);
    // Streams opened before (0-RTT) take the new limits.
    for (const s of this.send.values()) s.maxData = Math.max(s.maxData === Number.POSITIVE_INFINITY ? 0 : s.maxData, this.peerSendLimit(s.id));
  }

  private peerSendLimit(id: number): number {
    const p = this.peer;
    if (p === undefined) return 0;
    if (!isBidi(id)) return p.initialMaxStreamDataUni;
    // The peer's "local" limit applies to streams it opened, "remote" to ours.
    return this.isLocal(id) ? p.initialMaxStreamDataBidiRemote : p.initialMaxStreamDataBidiLocal;
  }

  isLocal(id: number): boolean {
    return isClientInitiated(id) !== this.isServer;
  }

  private firstId(bidi: boolean, local: boolean): number {
    const client = local ? !this.isServer : this.isServer;
    return (client ? 0 : 1) | (bidi ? 0 : 2);
  }

  /** Opens one of our streams; undefined when the peer's MAX_STREAMS does not allow it yet. */
  open(bidi: boolean): number | undefined {
    const n = bidi ? this.openedBidi : this.openedUni;
    const limit = bidi ? this.peerMaxBidi : this.peerMaxUni;
    if (n >= limit) {
      if (bidi) this.blockedBidiAt = limit;
      else this.blockedUniAt = limit;
      return undefined;
    }
    const id = this.firstId(bidi, true) + 4 * n;
    if (bidi) this.openedBidi++;
    else this.openedUni++;
    this.send.set(id, new SendStream(id, this.peerSendLimit(id), this.windows.sendBufferLimit));
    if (bidi) this.recv.set(id, new RecvStream(id, this.windows.bidiLocal, this.windows.maxWindow));
    return id;
  }

  /**
   * The streams a frame from the peer refers to, opening peer streams as §3.2 says. `direction`: 'recv' for
   * frames about data the peer sends (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED), 'send' for frames about data
   * we send (MAX_STREAM_DATA, STOP_SENDING). Throws STREAM_STATE_ERROR / STREAM_LIMIT_ERROR for streams that
   * cannot exist; a stream that did exist but was forgotten is simply absent from the maps afterwards.
   */
  forPeerFrame(id: number, direction: 'recv' | 'send', frameType: number): void {
    const local = this.isLocal(id);
    const bidi = isBidi(id);
    if (local) {
      const opened = bidi ? this.openedBidi : this.openedUni;
      if (Math.floor(id / 4) >= opened) throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `stream ${id} was not opened`, frameType);
      if (!bidi && direction === 'recv') throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `stream ${id} is our unidirectional stream`, frameType);
      return;
    }
    if (!bidi && direction === 'send') throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `stream ${id} is the peer's unidirectional stream`, frameType);
    const index = Math.floor(id / 4);
    const limit = bidi ? this.localMaxBidi : this.localMaxUni;
    if (index >= limit) throw new QuicError(TransportErrorCode.STREAM_LIMIT_ERROR, `stream ${id} beyond the limit of ${limit}`, frameType);
    let opened = bidi ? this.peerOpenedBidi : this.peerOpenedUni;
    while (opened <= index) {
      const sid = this.firstId(bidi, false) + 4 * opened;
      this.recv.set(sid, new RecvStream(sid, bidi ? this.windows.bidiRemote : this.windows.uni, this.windows.maxWindow));
      if (bidi) this.send.set(sid, new SendStream(sid, this.peerSendLimit(sid), this.windows.sendBufferLimit));
      this.newPeerStreams.push(sid);
      opened++;
    }
    if (bidi) this.peerOpenedBidi = opened;
    else this.peerOpenedUni = opened;
  }

  onMaxStreams(bidi: boolean, max: number): void {
    if (bidi) this.peerMaxBidi = Math.max(this.peerMaxBidi, max);
    else this.peerMaxUni = Math.max(this.peerMaxUni, max);
  }

  /** Forgets streams whose both halves are done; peer streams raise our MAX_STREAMS (§4.6). */
  collect(): void {
    for (const [id, r] of this.recv) {
      const s = this.send.get(id);
      const recvDone = r.isFinished;
      const sendDone = s === undefined || s.isDone;
      if (!recvDone || !sendDone) continue;
      this.forget(id);
    }
    for (const [id, s] of this.send) {
      if (isBidi(id) || !s.isDone) continue;
      this.forget(id);
    }
  }

  private forget(id: number): void {
    this.recv.delete(id);
    this.send.delete(id);
    if (this.isLocal(id)) return;
    if (isBidi(id)) {
      this.peerClosedBidi++;
      this.localMaxBidi = this.peerClosedBidi + this.windows.maxStreamsBidi;
      this.maxStreamsBidiPending = true;
    } else {
      this.peerClosedUni++;
      this.localMaxUni = this.peerClosedUni + this.windows.maxStreamsUni;
      this.maxStreamsUniPending = true;
    }
  }
}
