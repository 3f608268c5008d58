// Header protection masks in JavaScript (RFC 9001 §5.4.3, §5.4.4), used by both providers.
//
// Measured (bench/crypto.bench.ts): one AES block with noble's pre-expanded key takes ~0.2 µs and our ChaCha20
// block ~0.6 µs, against ~1 µs and ~1.9 µs through node:crypto, where crossing into OpenSSL and allocating the
// output Buffer costs more than the 16-byte computation itself. So the node provider uses these too; the
// OpenSSL variant stays available (`OpenSslAesHeaderProtection`) for comparison.

import { unsafe as aes } from '@noble/ciphers/aes.js';
import { ChaCha20Block } from './chacha20-block.js';
import type { HeaderProtection } from './provider.js';

export class JsAesHeaderProtection implements HeaderProtection {
  private readonly xk: Uint32Array;
  private readonly block = new Uint8Array(16);
  constructor(key: Uint8Array) {
    this.xk = aes.expandKeyLE(key);
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    this.block.set(sample.subarray(0, 16));
    aes.encryptBlock(this.xk, this.block);
    for (let i = 0; i < 5; i++) out[i] = this.block[i]!;
  }
}

export class JsChachaHeaderProtection implements HeaderProtection {
  private readonly block: ChaCha20Block;
  private readonly m = new Uint8Array(5);
  constructor(key: Uint8Array) {
    this.block = new ChaCha20Block(key);
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    // counter = sample[0..4] little-endian, nonce = sample[4..16]
    const counter = (sample[0]! | (sample[1]! << 8) | (sample[2]! << 16) | (sample[3]! << 24)) >>> 0;
    this.block.keystream(counter, sample, 4, this.m);
    out.set(this.m);
  }
}
