// RFC 8446 §6: alerts. In QUIC an alert is not sent as a record: it closes the connection with
// CRYPTO_ERROR = 0x0100 + the alert description (RFC 9001 §4.8).

import { QuicError, cryptoError } from '@gquic/wire';

export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof AlertDescription;

const NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]));

/** A fatal TLS alert, as the QUIC transport error CRYPTO_ERROR (0x0100 + alert). */
export class TlsAlert extends QuicError {
  readonly alert: number;
  constructor(alert: number, reason: string) {
    super(cryptoError(alert), `${NAMES.get(alert) ?? `alert ${alert}`}: ${reason}`);
    this.name = 'TlsAlert';
    this.alert = alert;
  }
}

export function alert(name: AlertName, reason: string): TlsAlert {
  return new TlsAlert(AlertDescription[name], reason);
}
