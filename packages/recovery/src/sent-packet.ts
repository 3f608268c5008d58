// A packet we sent, kept until it is acknowledged or declared lost (RFC 9002 Appendix A.1.1). `frames` is the
// connection's record of what the packet carried, replayed when it is lost; loss recovery never looks inside.

export const SPACE_INITIAL = 0;
export const SPACE_HANDSHAKE = 1;
export const SPACE_APPLICATION = 2;
export type PacketSpace = typeof SPACE_INITIAL | typeof SPACE_HANDSHAKE | typeof SPACE_APPLICATION;
export const SPACE_NAMES = ['initial', 'handshake', 'application_data'] as const;

export class SentPacket<F = unknown> {
  constructor(
    readonly pn: number,
    /** Microseconds. */
    readonly timeSent: number,
    /** Bytes on the wire (the whole UDP payload share of this packet). */
    readonly size: number,
    readonly ackEliciting: boolean,
    /** Counts toward bytes in flight (ack-eliciting or padded, §2). */
    readonly inFlight: boolean,
    /** Sent while the application, not the congestion window, limited sending (§7.8). */
    readonly appLimited: boolean,
    readonly frames: F,
    /** A PMTU probe (RFC 9000 §14.4): its loss is not a congestion signal. */
    readonly mtuProbe = false,
  ) {}
}
