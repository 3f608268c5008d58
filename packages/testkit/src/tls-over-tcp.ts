// A test-only TLS 1.3 record layer (RFC 8446 §5) around our sans-IO TlsClient/TlsServer, so that their
// handshake messages can be checked against an independent implementation: node:tls (OpenSSL) over TCP.
// QUIC never uses this; it replaces the record layer with CRYPTO frames and packet protection.

import type { Socket } from 'node:net';
import { AEAD_TAG_LENGTH, hkdfExpandLabel, type Aead, type CipherSuite, type CryptoProvider } from '@gquic/crypto';
import { QuicError } from '@gquic/wire';
import { TlsAlert, type ClientSession, type EncryptionLevel, type TlsConnection } from '@gquic/tls';

const CONTENT = { change_cipher_spec: 20, alert: 21, handshake: 22, application_data: 23 } as const;
const MAX_FRAGMENT = 16384;

class RecordProtection {
  private seq = 0;
  private readonly aead: Aead;
  private readonly iv: Uint8Array;
  private readonly nonce = new Uint8Array(12);

  constructor(provider: CryptoProvider, suite: CipherSuite, secret: Uint8Array) {
    const key = hkdfExpandLabel(provider, suite.hash, secret, 'key', new Uint8Array(0), suite.keyLength);
    this.iv = hkdfExpandLabel(provider, suite.hash, secret, 'iv', new Uint8Array(0), 12);
    this.aead = provider.aead(suite.aead, key);
  }

  /** §5.3: the per-record nonce is the IV XOR the 64-bit sequence number. */
  private nextNonce(): Uint8Array {
    this.nonce.set(this.iv);
    let s = this.seq++;
    for (let i = 11; i >= 4 && s > 0; i--, s = Math.floor(s / 256)) this.nonce[i]! ^= s & 0xff;
    return this.nonce;
  }

  seal(type: number, content: Uint8Array): Uint8Array {
    const innerLength = content.length + 1;
    const out = new Uint8Array(5 + innerLength + AEAD_TAG_LENGTH);
    writeHeader(out, CONTENT.application_data, innerLength + AEAD_TAG_LENGTH);
    out.set(content, 5);
    out[5 + content.length] = type;
    this.aead.seal(this.nextNonce(), out.subarray(0, 5), out, 5, innerLength);
    return out;
  }

  /** Returns [inner content type, content] or throws bad_record_mac. */
  open(header: Uint8Array, fragment: Uint8Array): [number, Uint8Array] {
    const buf = fragment.slice();
    if (!this.aead.open(this.nextNonce(), header, buf, 0, buf.length)) throw new TlsAlert(20, 'record does not authenticate');
    let end = buf.length - AEAD_TAG_LENGTH;
    while (end > 0 && buf[end - 1] === 0) end--; // §5.4 padding
    if (end === 0) throw new TlsAlert(10, 'record without a content type');
    return [buf[end - 1]!, buf.subarray(0, end - 1)];
  }
}

function writeHeader(out: Uint8Array, type: number, length: number): void {
  out[0] = type;
  out[1] = 3;
  out[2] = 3;
  out[3] = length >>> 8;
  out[4] = length & 0xff;
}

/** Drives a TlsConnection over a TCP socket with TLS 1.3 records. */
export class TlsOverTcp {
  private readonly writeKeys = new Map<EncryptionLevel, RecordProtection>();
  private readLevel: EncryptionLevel = 'initial';
  private readProtection: RecordProtection | undefined;
  private readonly pendingRead = new Map<EncryptionLevel, RecordProtection>();
  private readonly offsets = new Map<EncryptionLevel, number>();
  private inbox = new Uint8Array(0);
  private readonly appData: Uint8Array[] = [];
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;
  private completed = false;
  private closed = false;
  readonly sessions: ClientSession[] = [];
  /** The handshake message types we sent, in order (e.g. two ClientHellos after a HelloRetryRequest). */
  readonly sentMessageTypes: number[] = [];

  constructor(
    private readonly socket: Socket,
    readonly tls: TlsConnection,
    private readonly provider: CryptoProvider,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private fail(e: Error): void {
    if (this.failure === undefined) this.failure = e;
    this.wake();
  }

  /** Starts the handshake (clients send their ClientHello). */
  start(): void {
    this.run(() => this.tls.start(Date.now()));
  }

  private run(fn: () => void): void {
    if (this.failure !== undefined) return;
    try {
      fn();
      this.drainEvents();
    } catch (e) {
      this.drainEvents();
      if (e instanceof TlsAlert) this.sendAlert(e.alert);
      this.fail(e as Error);
    }
  }

  private drainEvents(): void {
    for (let e = this.tls.pollEvent(); e !== undefined; e = this.tls.pollEvent()) {
      switch (e.type) {
        case 'secret':
          if (e.direction === 'write') this.writeKeys.set(e.level, new RecordProtection(this.provider, e.suite, e.secret));
          else this.pendingRead.set(e.level, new RecordProtection(this.provider, e.suite, e.secret));
          break;
        case 'handshake-data':
          this.sentMessageTypes.push(e.data[0]!);
          this.write(e.level, CONTENT.handshake, e.data);
          break;
        case 'handshake-complete':
          this.completed = true;
          break;
        case 'session-ticket':
          this.sessions.push(e.session);
          break;
        default:
          break;
      }
    }
    // Each read secret arrives right after the last message protected by the previous one (§5.1), and records are
    // processed one at a time, so the new key applies from the next record.
    for (const level of ['handshake', 'application'] as const) {
      const p = this.pendingRead.get(level);
      if (p === undefined) continue;
      this.readLevel = level;
      this.readProtection = p;
      this.pendingRead.delete(level);
    }
    this.wake();
  }

  private write(level: EncryptionLevel, type: number, data: Uint8Array): void {
    for (let at = 0; at < data.length || (at === 0 && data.length === 0); at += MAX_FRAGMENT) {
      const piece = data.subarray(at, at + MAX_FRAGMENT);
      if (level === 'initial') {
        const rec = new Uint8Array(5 + piece.length);
        writeHeader(rec, type, piece.length);
        rec.set(piece, 5);
        this.socket.write(rec);
      } else {
        const key = this.writeKeys.get(level);
        if (key === undefined) throw new Error(`no write key for ${level}`);
        this.socket.write(key.seal(type, piece));
      }
      if (data.length === 0) break;
    }
  }

  private sendAlert(alert: number): void {
    const level = this.writeKeys.has('application') ? 'application' : this.writeKeys.has('handshake') ? 'handshake' : 'initial';
    try {
      this.write(level, CONTENT.alert, Uint8Array.of(2, alert));
    } catch {
      // best effort
    }
  }

  private onData(chunk: Buffer): void {
    const next = new Uint8Array(this.inbox.length + chunk.length);
    next.set(this.inbox);
    next.set(chunk, this.inbox.length);
    this.inbox = next;
    while (this.inbox.length >= 5 && this.failure === undefined) {
      const len = (this.inbox[3]! << 8) | this.inbox[4]!;
      if (this.inbox.length < 5 + len) break;
      const header = this.inbox.slice(0, 5);
      const fragment = this.inbox.slice(5, 5 + len);
      this.inbox = this.inbox.subarray(5 + len);
      this.run(() => this.onRecord(header, fragment));
    }
  }

  private onRecord(header: Uint8Array, fragment: Uint8Array): void {
    let type = header[0]!;
    let content = fragment;
    // §5.1: middlebox-compatibility ChangeCipherSpec records are ignored during the handshake.
    if (type === CONTENT.change_cipher_spec) return;
    if (type === CONTENT.application_data) {
      if (this.readProtection === undefined) throw new TlsAlert(10, 'encrypted record before keys');
      [type, content] = this.readProtection.open(header, fragment);
    } else if (this.readLevel !== 'initial' && type !== CONTENT.alert) {
      throw new TlsAlert(10, 'plaintext record after the handshake keys');
    }
    switch (type) {
      case CONTENT.handshake: {
        const level = this.readLevel;
        const off = this.offsets.get(level) ?? 0;
        this.offsets.set(level, off + content.length);
        this.tls.handleCryptoData(level, off, content, Date.now());
        return;
      }
      case CONTENT.application_data:
        this.appData.push(content.slice());
        return;
      case CONTENT.alert:
        if (content[1] === 0) {
          this.closed = true;
          return;
        }
        throw new QuicError(0x100 + (content[1] ?? 0), `peer sent alert ${content[1]}`);
      default:
        throw new TlsAlert(10, `record type ${type}`);
    }
  }

  private async until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.failure !== undefined) throw this.failure;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async handshake(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.completed, 'the handshake', timeoutMs);
  }

  sendApplicationData(data: Uint8Array): void {
    this.write('application', CONTENT.application_data, data);
  }

  /** The next application data record's content. */
  async receiveApplicationData(timeoutMs = 10_000): Promise<Uint8Array> {
    await this.until(() => this.appData.length > 0, 'application data', timeoutMs);
    return this.appData.shift()!;
  }

  /** Waits for `n` session tickets (the server sends them after the handshake). */
  async waitForTickets(n: number, timeoutMs = 10_000): Promise<ClientSession[]> {
    await this.until(() => this.sessions.length >= n, 'session tickets', timeoutMs);
    return this.sessions;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  close(): void {
    try {
      if (this.failure === undefined && this.writeKeys.has('application')) this.write('application', CONTENT.alert, Uint8Array.of(1, 0));
    } catch {
      // ignore
    }
    this.socket.end();
  }
}
