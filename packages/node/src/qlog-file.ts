// qlog files: one `<odcid>_<client|server>.sqlog` per connection in a directory (the QLOGDIR convention of
// quiche and ngtcp2), written in 64 KiB batches so per-packet events do not cost a system call each.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { QlogFactory, QlogSink } from '@gquic/quic';

const FLUSH_AT = 64 * 1024;

export class FileQlogSink implements QlogSink {
  private fd: number | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o644);
  }

  write(record: string): void {
    if (this.fd === undefined) return;
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A qlog factory writing into `dir` (created if missing). */
export function qlogDirectory(dir: string): QlogFactory {
  mkdirSync(dir, { recursive: true });
  return (odcid, vantage) => new FileQlogSink(join(dir, `${odcid}_${vantage}.sqlog`));
}
