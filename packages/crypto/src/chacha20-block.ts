// RFC 8439 §2.3: the ChaCha20 block function, for header protection masks (RFC 9001 §5.4.4) in the pure-JS
// provider. Allocation-free; unlike a general stream cipher API it accepts any 32-bit counter, 0xffffffff
// included, because a header protection mask only ever uses the first 5 bytes of one block.

const SIGMA = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);

export class ChaCha20Block {
  private readonly key = new Uint32Array(8);
  private readonly state = new Uint32Array(16);
  private readonly x = new Uint32Array(16);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('ChaCha20 key must be 32 bytes');
    for (let i = 0; i < 8; i++) this.key[i] = le32(key, 4 * i);
  }

  /** Writes the first `out.length` (<= 64) keystream bytes of block `counter` with a 12-byte nonce. */
  keystream(counter: number, nonce: Uint8Array, nonceOffset: number, out: Uint8Array): void {
    const s = this.state;
    const x = this.x;
    s.set(SIGMA, 0);
    s.set(this.key, 4);
    s[12] = counter >>> 0;
    s[13] = le32(nonce, nonceOffset);
    s[14] = le32(nonce, nonceOffset + 4);
    s[15] = le32(nonce, nonceOffset + 8);
    x.set(s);
    for (let i = 0; i < 10; i++) {
      qr(x, 0, 4, 8, 12);
      qr(x, 1, 5, 9, 13);
      qr(x, 2, 6, 10, 14);
      qr(x, 3, 7, 11, 15);
      qr(x, 0, 5, 10, 15);
      qr(x, 1, 6, 11, 12);
      qr(x, 2, 7, 8, 13);
      qr(x, 3, 4, 9, 14);
    }
    for (let i = 0; i < out.length; i++) {
      const w = (x[i >> 2]! + s[i >> 2]!) >>> 0;
      out[i] = (w >>> (8 * (i & 3))) & 0xff;
    }
  }
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function qr(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  x[a] = x[a]! + x[b]!;
  x[d] = rotl(x[d]! ^ x[a]!, 16);
  x[c] = x[c]! + x[d]!;
  x[b] = rotl(x[b]! ^ x[c]!, 12);
  x[a] = x[a]! + x[b]!;
  x[d] = rotl(x[d]! ^ x[a]!, 8);
  x[c] = x[c]! + x[d]!;
  x[b] = rotl(x[b]! ^ x[c]!, 7);
}

function rotl(v: number, n: number): number {
  return (v << n) | (v >>> (32 - n));
}
