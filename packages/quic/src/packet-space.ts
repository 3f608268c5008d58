// One packet number space (RFC 9000 §12.3): its keys, the packets we received (for ACKs), the next packet
// number, and CRYPTO data in both directions (RFC 9000 §19.6).

import type { PacketKeys } from '@gquic/crypto';
import { AckTracker } from '@gquic/recovery';
import { SendStream } from './streams/send-stream.js';

export class PacketSpace {
  readKeys: PacketKeys | undefined;
  writeKeys: PacketKeys | undefined;
  readonly acks: AckTracker;
  nextPn = 0;
  /** CRYPTO data to send (no flow control; offsets per space). */
  readonly cryptoSend = new SendStream(-1);
  /** Offset of CRYPTO data handed to TLS so far is tracked by TLS itself. */
  discarded = false;
  /** A PTO fired: send an ack-eliciting probe in this space. */
  probesPending = 0;

  constructor(immediateAcks: boolean) {
    this.acks = new AckTracker(immediateAcks);
  }

  discard(): void {
    this.discarded = true;
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.probesPending = 0;
  }
}
