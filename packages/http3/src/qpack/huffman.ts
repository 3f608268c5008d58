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

/** Bytes `s[start, end)` take Huffman-coded (RFC 7541 §5.2: padded to a whole byte). */
export function huffmanEncodedLength(s: Uint8Array, start = 0, end = s.length): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += HUFFMAN_LENGTHS[s[i]!]!;
  return (bits + 7) >>> 3;
}

/** Huffman-codes `s[start, end)` into `out` at `pos`; returns the end position. Padding is the EOS prefix (all ones). */
export function huffmanEncode(s: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  let acc = 0; // pending bits, right-aligned
  let n = 0; // how many
  for (let i = start; i < end; i++) {
    const sym = s[i]!;
    const l = HUFFMAN_LENGTHS[sym]!;
    // Keep acc below 2^32: flush whole bytes first (n + l <= 30 + 7).
    acc = acc * (1 << l) + HUFFMAN_CODES[sym]!;
    n += l;
    while (n >= 8) {
      n -= 8;
      out[pos++] = Math.floor(acc / 2 ** n) & 0xff;
    }
    acc %= 2 ** n;
  }
  if (n > 0) out[pos++] = ((acc << (8 - n)) | (0xff >>> n)) & 0xff;
  return pos;
}

/**
 * Decodes Huffman-coded bytes (RFC 7541 §5.2). Padding longer than 7 bits, padding that is not the EOS prefix,
 * and an encoded EOS are decoding errors (QPACK_DECOMPRESSION_FAILED, or the caller's code).
 */
export function huffmanDecode(b: Uint8Array, start: number, end: number, out: Uint8Array, pos: number, code: number = QpackErrorCode.DECOMPRESSION_FAILED): number {
  let node = 0;
  let depth = 0; // bits since the last symbol
  let allOnes = true; // those bits were all ones (a possible EOS prefix)
  for (let i = start; i < end; i++) {
    const byte = b[i]!;
    for (let k = 7; k >= 0; k--) {
      const bit = (byte >>> k) & 1;
      const next = TRIE[node * 2 + bit]!;
      depth++;
      if (bit === 0) allOnes = false;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === EOS) throw new QpackError(code, 'Huffman string contains EOS');
        if (pos >= out.length) throw new QpackError(code, 'Huffman string longer than allowed');
        out[pos++] = sym;
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new QpackError(code, 'invalid Huffman code');
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || !allOnes) throw new QpackError(code, 'invalid Huffman padding');
  return pos;
}
