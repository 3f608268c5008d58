// QIF, the QPACK offline-interop header list format (`name<TAB>value` lines, a blank line between field sections,
// `#` comments; read as latin1 so every octet survives), and a round trip of such lists through QPACK.

import { QpackDecoder, type FieldLine } from './decoder.js';
import { QpackEncoder } from './encoder.js';

export function parseQif(text: string): FieldLine[][] {
  const sections: FieldLine[][] = [];
  let cur: FieldLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) continue;
    if (line === '') {
      if (cur.length > 0) sections.push(cur);
      cur = [];
      continue;
    }
    const tab = line.indexOf('\t');
    cur.push(tab < 0 ? [line, ''] : [line.slice(0, tab), line.slice(tab + 1)]);
  }
  if (cur.length > 0) sections.push(cur);
  return sections;
}

/** Encodes every section through an encoder and decoder pair; returns sizes. Checks each decoded list. */
export interface RoundTripResult {
  /** Octets of names and values, uncompressed. */
  plain: number;
  /** Encoded field sections (HEADERS payloads) and encoder stream, in octets. */
  sections: number;
  encoderStream: number;
  /** Sections that had to wait for the encoder stream. */
  blockedDecodes: number;
  /** Left over at the end (both 0 when every acknowledgment came back). */
  decoderBlocked: number;
  encoderBlocking: number;
}

/**
 * Runs header lists through an encoder and decoder pair with lagging streams: encoder stream data is held back
 * while the decoder may block (so sections really wait), decoder stream data returns every third section.
 * Throws unless every section decodes to exactly its input; returns the sizes.
 */
export function roundTripSections(sections: readonly FieldLine[][], capacity: number, blocked: number): RoundTripResult {
  const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
  const enc = new QpackEncoder({ maxTableCapacity: capacity });
  enc.applyPeerSettings(capacity, blocked);
  let plain = 0;
  let sectionBytes = 0;
  let encoderBytes = 0;
  let blockedDecodes = 0;
  let heldEncoder: Uint8Array[] = [];
  const decoded = new Map<number, FieldLine[]>();
  const deliverEncoder = (): void => {
    for (const b of heldEncoder) for (const id of dec.onEncoderStream(b)) decoded.set(id, dec.resume(id)!);
    heldEncoder = [];
  };
  sections.forEach((lines, i) => {
    const id = 4 * i;
    for (const [n, v] of lines) plain += n.length + v.length;
    const block = enc.encode(id, lines);
    sectionBytes += block.length;
    const es = enc.takeEncoderStream();
    if (es !== undefined) {
      encoderBytes += es.length;
      heldEncoder.push(es);
    }
    if (blocked === 0 || dec.blockedStreams >= blocked) deliverEncoder();
    const out = dec.decode(id, block);
    if (out !== undefined) decoded.set(id, out);
    else blockedDecodes++;
    if (i % 3 === 2) {
      deliverEncoder();
      const ds = dec.takeDecoderStream();
      if (ds !== undefined) enc.onDecoderStream(ds);
    }
  });
  deliverEncoder();
  const ds = dec.takeDecoderStream();
  if (ds !== undefined) enc.onDecoderStream(ds);
  sections.forEach((lines, i) => {
    const got = decoded.get(4 * i);
    if (got === undefined || JSON.stringify(got) !== JSON.stringify(lines)) throw new Error(`section ${i} (capacity ${capacity}, blocked ${blocked}) did not round-trip`);
  });
  return { plain, sections: sectionBytes, encoderStream: encoderBytes, blockedDecodes, decoderBlocked: dec.blockedStreams, encoderBlocking: enc.stats.blockingStreams };
}
