// What a sent packet carried, as far as loss and acknowledgement need to know (neqo's "recovery tokens"):
// byte ranges of CRYPTO and STREAM data, and which control frames to send again if the packet is lost.

export const SF_CRYPTO = 0;
export const SF_STREAM = 1;
export const SF_ACK = 2;
export const SF_HANDSHAKE_DONE = 3;
export const SF_MAX_DATA = 4;
export const SF_MAX_STREAM_DATA = 5;
export const SF_MAX_STREAMS = 6;
export const SF_RESET_STREAM = 7;
export const SF_STOP_SENDING = 8;
export const SF_NEW_CID = 9;
export const SF_RETIRE_CID = 10;
export const SF_DATA_BLOCKED = 11;
export const SF_STREAMS_BLOCKED = 12;
export const SF_STREAM_DATA_BLOCKED = 13;
export const SF_NEW_TOKEN = 14;

/**
 * kind, then up to three numbers: CRYPTO (offset, length), STREAM (id, offset, length; `fin` separately),
 * ACK (largest acknowledged), MAX_STREAM_DATA/RESET_STREAM/STOP_SENDING/STREAM_DATA_BLOCKED (stream id),
 * MAX_STREAMS/STREAMS_BLOCKED (1 = bidirectional), NEW_CONNECTION_ID/RETIRE_CONNECTION_ID (sequence number).
 */
export class SentFrame {
  constructor(
    readonly kind: number,
    readonly a = 0,
    readonly b = 0,
    readonly c = 0,
    readonly fin = false,
  ) {}
}

export type SentFrames = SentFrame[];
