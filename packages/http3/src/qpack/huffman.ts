// The HPACK Huffman code (RFC 7541 §5.2, Appendix B), which QPACK uses for string literals (RFC 9204 §4.1.2).
//
// The code is canonical: codes of one length are consecutive, in symbol order, and each length starts where the
// shorter one ended (shifted). So the table is fully given by the code length of each symbol, listed below from
// RFC 7541 Appendix B; the codes themselves are rebuilt at load and checked against the RFC in the tests.

import { QpackError, QpackErrorCode } from './errors.js';

// Code lengths of symbols 0..255 and EOS (256), RFC 7541 Appendix B, column "len".
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;
/** code[sym], right-aligned in `len[sym]` bits (at most 30, so plain numbers). */
export const HUFFMAN_CODES = new Uint32Array(257);
export const HUFFMAN_LENGTHS = Uint8Array.from(LENGTHS);

// Decoding: a binary trie in flat arrays (node 0 is the root; child < 0 means leaf for symbol -child - 1).
const trie: number[] = [0, 0];

(function build(): void {
  const order = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let len = LENGTHS[order[0]!]!;
  for (let i = 0; i < order.length; i++) {
    const sym = order[i]!;
    const l = LENGTHS[sym]!;
    code <<= l - len;
    len = l;
    HUFFMAN_CODES[sym] = code;
    code++;
    // Insert into the trie.
    let node = 0;
    for (let b = l - 1; b >= 0; b--) {
      const bit = (HUFFMAN_CODES[sym]! >>> b) & 1;
      const slot = node * 2 + bit;
      if (b === 0) {
        trie[slot] = -sym - 1;
      } else {
        if (trie[slot] === 0) {
          trie[slot] = trie.length / 2;
          trie.push(0, 0);
        }
        node = trie[slot]!;
      }
    }
  }
})();
const TRIE = Int32Array.from(trie);

/** For the next 8 bits, the symbol of a code of at most 8 bits that they start with (sym << 4 | len), or 0. */
const FAST8 = new Uint16Array(256);
for (let sym = 0; sym < 256; sym++) {
  const len = LENGTHS[sym]!;
  if (len > 8) continue;
  const first = HUFFMAN_CODES[sym]! << (8 - len);
  for (let k = 0; k < 1 << (8 - len); k++) FAST8[first | k] = (sym << 4) | len;
}

/** Bytes `s[start, end)` take Huffman-coded (RFC 7541 §5.2: padded to a whole byte). */
export function huffmanEncodedLength(s: Uint8Array, start = 0, end = s.length): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += HUFFMAN_LENGTHS[s[i]!]!;
  return (bits + 7) >>> 3;
}

/** Huffman-codes `s[start, end)` into `out` at `pos`; returns the end position. Padding is the EOS prefix (all ones). */
export function huffmanEncode(s: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  // Pending bits right-aligned in a 32-bit integer: fewer than 8 are left after each flush, so a code of up to
  // 24 bits fits; the rare longer ones (25-30 bits, control and high bytes) go in two halves.
  let acc = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const sym = s[i]!;
    let code = HUFFMAN_CODES[sym]!;
    let len = HUFFMAN_LENGTHS[sym]!;
    if (len > 24) {
      const hi = len - 16;
      acc = (acc << hi) | (code >>> 16);
      n += hi;
      while (n >= 8) {
        n -= 8;
        out[pos++] = (acc >>> n) & 0xff;
      }
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      n -= 8;
      out[pos++] = (acc >>> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out[pos++] = ((acc << (8 - n)) | (0xff >>> n)) & 0xff;
  return pos;
}

/**
 * Decodes Huffman-coded bytes (RFC 7541 §5.2). Padding longer than 7 bits, padding that is not the EOS prefix,
 * and an encoded EOS are decoding errors (QPACK_DECOMPRESSION_FAILED, or the caller's code).
 */
export function huffmanDecode(b: Uint8Array, start: number, end: number, out: Uint8Array, pos: number, code: number = QpackErrorCode.DECOMPRESSION_FAILED): number {
  // Bits pending, right-aligned (at most 31 of them); whole short codes come from FAST8, the rest walk the trie.
  let acc = 0;
  let n = 0;
  let i = start;
  for (;;) {
    while (n <= 23 && i < end) {
      acc = ((acc << 8) | b[i++]!) & 0x7fffffff;
      n += 8;
    }
    if (n >= 8) {
      const f = FAST8[(acc >>> (n - 8)) & 0xff]!;
      if (f !== 0) {
        if (pos >= out.length) throw new QpackError(code, 'Huffman string longer than allowed');
        out[pos++] = f >>> 4;
        n -= f & 0xf;
        continue;
      }
    }
    if (n === 0) break;
    // The slow path: one symbol bit by bit (codes over 8 bits, or the last few bits of the input).
    let node = 0;
    let depth = 0;
    let allOnes = true;
    let sym = -1;
    while (n > 0 || i < end) {
      if (n === 0) {
        acc = b[i++]!;
        n = 8;
      }
      const bit = (acc >>> (n - 1)) & 1;
      n--;
      depth++;
      if (bit === 0) allOnes = false;
      const next = TRIE[node * 2 + bit]!;
      if (next < 0) {
        sym = -next - 1;
        break;
      }
      if (next === 0) throw new QpackError(code, 'invalid Huffman code');
      node = next;
    }
    if (sym < 0) {
      // Input ended inside a code: that is the padding, at most 7 bits of the EOS prefix (all ones).
      if (depth > 7 || !allOnes) throw new QpackError(code, 'invalid Huffman padding');
      return pos;
    }
    if (sym === EOS) throw new QpackError(code, 'Huffman string contains EOS');
    if (pos >= out.length) throw new QpackError(code, 'Huffman string longer than allowed');
    out[pos++] = sym;
  }
  return pos;
}
