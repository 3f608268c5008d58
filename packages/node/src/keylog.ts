// SSLKEYLOGFILE: TLS secrets in NSS key log format, appended line by line, so Wireshark can decrypt QUIC.

import { appendFileSync } from 'node:fs';

export function keyLogWriter(path: string | undefined): ((line: string) => void) | undefined {
  if (path === undefined || path === '') return undefined;
  return (line) => appendFileSync(path, line + '\n', { mode: 0o600 });
}
