// TLS 1.3 cipher suites as QUIC uses them (RFC 8446 §B.4, RFC 9001 §5.3, §6.6).

import type { AeadName, HashName, HeaderProtectionName } from './provider.js';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly aead: AeadName;
  readonly hash: HashName;
  readonly headerProtection: HeaderProtectionName;
  readonly keyLength: number;
  readonly hashLength: number;
  /** RFC 9001 §6.6: packets that may be encrypted with one key. */
  readonly confidentialityLimit: number;
  /** RFC 9001 §6.6: packets that may fail authentication across all keys of the connection. */
  readonly integrityLimit: number;
}

export const TLS_AES_128_GCM_SHA256: CipherSuite = {
  id: 0x1301,
  name: 'TLS_AES_128_GCM_SHA256',
  aead: 'aes-128-gcm',
  hash: 'sha256',
  headerProtection: 'aes-128',
  keyLength: 16,
  hashLength: 32,
  confidentialityLimit: 2 ** 23,
  integrityLimit: 2 ** 52,
};

export const TLS_AES_256_GCM_SHA384: CipherSuite = {
  id: 0x1302,
  name: 'TLS_AES_256_GCM_SHA384',
  aead: 'aes-256-gcm',
  hash: 'sha384',
  headerProtection: 'aes-256',
  keyLength: 32,
  hashLength: 48,
  confidentialityLimit: 2 ** 23,
  integrityLimit: 2 ** 52,
};

export const TLS_CHACHA20_POLY1305_SHA256: CipherSuite = {
  id: 0x1303,
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  aead: 'chacha20-poly1305',
  hash: 'sha256',
  headerProtection: 'chacha20',
  keyLength: 32,
  hashLength: 32,
  // RFC 9001 §6.6: greater than the number of possible packets (2^62).
  confidentialityLimit: Number.MAX_SAFE_INTEGER,
  integrityLimit: 2 ** 36,
};

export const CIPHER_SUITES: readonly CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

export function cipherSuiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.id === id);
}
