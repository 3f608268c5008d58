// HTTP message validation for HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3): pseudo-header fields, lowercase names,
// connection-specific fields, content-length. A malformed message is a stream error of type H3_MESSAGE_ERROR.

import type { FieldLine } from './qpack/decoder.js';
import { messageError } from './errors.js';

export interface RequestHead {
  method: string;
  scheme: string | undefined;
  authority: string | undefined;
  path: string | undefined;
  /** Extended CONNECT (RFC 9220): the :protocol pseudo-header. */
  protocol: string | undefined;
  headers: FieldLine[];
}

export interface ResponseHead {
  status: number;
  headers: FieldLine[];
}

/** §4.2: connection-specific fields are malformed in HTTP/3 (TE only with "trailers"). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

// RFC 9110 §5.1 token characters; §5.5 field values: no NUL, CR or LF, no leading or trailing whitespace.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\0\r\n]|^[ \t]|[ \t]$/;

function checkRegular(name: string, value: string): void {
  if (!TOKEN.test(name)) throw messageError(`invalid field name ${JSON.stringify(name)}`);
  if (BAD_VALUE.test(value)) throw messageError(`invalid value for ${name}`);
  if (CONNECTION_SPECIFIC.has(name)) throw messageError(`connection-specific field ${name}`);
  if (name === 'te' && value.toLowerCase() !== 'trailers') throw messageError('TE other than "trailers"');
}

/** Splits pseudo-header fields from the rest, checking order, duplicates and names (§4.3). */
function split(lines: readonly FieldLine[], allowed: ReadonlySet<string>): { pseudo: Map<string, string>; headers: FieldLine[] } {
  const pseudo = new Map<string, string>();
  const headers: FieldLine[] = [];
  for (const [name, value] of lines) {
    if (name.startsWith(':')) {
      if (headers.length > 0) throw messageError(`pseudo-header ${name} after regular fields`);
      if (!allowed.has(name)) throw messageError(`pseudo-header ${name} not allowed here`);
      if (pseudo.has(name)) throw messageError(`pseudo-header ${name} repeated`);
      if (BAD_VALUE.test(value)) throw messageError(`invalid value for ${name}`);
      pseudo.set(name, value);
    } else {
      checkRegular(name, value);
      headers.push([name, value]);
    }
  }
  return { pseudo, headers };
}

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const RESPONSE_PSEUDO = new Set([':status']);

/** §4.3.1, RFC 9220 §3: a request's field section. */
export function parseRequestHead(lines: readonly FieldLine[], extendedConnect = false): RequestHead {
  const { pseudo, headers } = split(lines, REQUEST_PSEUDO);
  const method = pseudo.get(':method');
  if (method === undefined || !TOKEN.test(method.toLowerCase())) throw messageError('missing or invalid :method');
  const protocol = pseudo.get(':protocol');
  const authority = pseudo.get(':authority');
  const scheme = pseudo.get(':scheme');
  const path = pseudo.get(':path');
  if (protocol !== undefined && (!extendedConnect || method !== 'CONNECT')) throw messageError(':protocol without Extended CONNECT');
  if (method === 'CONNECT' && protocol === undefined) {
    // §4.4: plain CONNECT has only :method and :authority.
    if (scheme !== undefined || path !== undefined || authority === undefined) throw messageError('CONNECT needs :authority and no :scheme or :path');
  } else {
    if (scheme === undefined || path === undefined) throw messageError('missing :scheme or :path');
    if (path === '') throw messageError('empty :path');
    // §4.3.1: http/https need an authority (or a Host field).
    if ((scheme === 'http' || scheme === 'https') && (authority === undefined || authority === '') && !headers.some(([n]) => n === 'host')) throw messageError('missing :authority');
  }
  const host = headers.find(([n]) => n === 'host');
  if (host !== undefined && authority !== undefined && host[1] !== authority) throw messageError(':authority and Host differ');
  return { method, scheme, authority, path, protocol, headers };
}

/** §4.3.2: a response's field section. */
export function parseResponseHead(lines: readonly FieldLine[]): ResponseHead {
  const { pseudo, headers } = split(lines, RESPONSE_PSEUDO);
  const s = pseudo.get(':status');
  if (s === undefined || !/^[1-9][0-9]{2}$/.test(s)) throw messageError('missing or invalid :status');
  return { status: Number(s), headers };
}

/** §4.1: trailers carry no pseudo-header fields. */
export function checkTrailers(lines: readonly FieldLine[]): FieldLine[] {
  for (const [name, value] of lines) {
    if (name.startsWith(':')) throw messageError(`pseudo-header ${name} in trailers`);
    checkRegular(name, value);
  }
  return [...lines];
}

/**
 * §4.1.2: content-length, when present, is the exact body size; several values must agree. Returns undefined
 * when absent.
 */
export function contentLength(headers: readonly FieldLine[]): number | undefined {
  let n: number | undefined;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    for (const part of value.split(',')) {
      const t = part.trim();
      if (!/^[0-9]{1,15}$/.test(t)) throw messageError(`invalid content-length ${JSON.stringify(value)}`);
      const v = Number(t);
      if (n !== undefined && n !== v) throw messageError('conflicting content-length values');
      n = v;
    }
  }
  return n;
}

/** Field lines for a request (pseudo-headers first, names lowercased by Headers). */
export function requestLines(method: string, url: URL, headers: Headers, protocol?: string): FieldLine[] {
  const lines: FieldLine[] = [[':method', method]];
  if (protocol !== undefined) lines.push([':protocol', protocol]);
  lines.push([':scheme', url.protocol.slice(0, -1)], [':authority', url.host], [':path', `${url.pathname}${url.search}` || '/']);
  for (const [n, v] of headers) if (!CONNECTION_SPECIFIC.has(n) && n !== 'host') lines.push([n, v]);
  return lines;
}

/** Field lines for a response. */
export function responseLines(status: number, headers: Headers): FieldLine[] {
  const lines: FieldLine[] = [[':status', String(status)]];
  for (const [n, v] of headers) {
    if (CONNECTION_SPECIFIC.has(n)) continue;
    if (n === 'set-cookie') continue; // joined by Headers iteration; sent one per line below
    lines.push([n, v]);
  }
  for (const c of headers.getSetCookie()) lines.push(['set-cookie', c]);
  return lines;
}

/** Web Headers from regular field lines (repeated fields appended, so nothing is lost). */
export function toHeaders(lines: readonly FieldLine[]): Headers {
  const h = new Headers();
  for (const [n, v] of lines) h.append(n, v);
  return h;
}
