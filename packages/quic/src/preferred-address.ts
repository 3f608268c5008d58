// The server's preferred address (RFC 9000 §9.6, §18.2): addresses as text in the core, as bytes on the wire.

import type { PreferredAddress } from '@gquic/wire';

export interface PathAddress {
  address: string;
  port: number;
}

/** Server configuration: one address per family, either may be left out. */
export interface PreferredAddressConfig {
  ipv4?: PathAddress;
  ipv6?: PathAddress;
}

/** Dotted-quad IPv4 to 4 bytes; undefined when it is not one. */
export function ipv4Bytes(address: string): Uint8Array | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** IPv6 text (with `::` and an embedded IPv4 tail) to 16 bytes; undefined when it is not one. */
export function ipv6Bytes(address: string): Uint8Array | undefined {
  const zone = address.indexOf('%');
  const text = zone >= 0 ? address.slice(0, zone) : address;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = ipv4Bytes(g);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

function ipv6Text(b: Uint8Array): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

/** The preferred_address transport parameter for `config`, with the CID of sequence number 1 (RFC 9000 §5.1.1). */
export function encodePreferredAddress(config: PreferredAddressConfig, connectionId: Uint8Array, statelessResetToken: Uint8Array): PreferredAddress {
  const v4 = config.ipv4 === undefined ? undefined : ipv4Bytes(config.ipv4.address);
  const v6 = config.ipv6 === undefined ? undefined : ipv6Bytes(config.ipv6.address);
  if (config.ipv4 !== undefined && v4 === undefined) throw new RangeError(`preferred address: ${config.ipv4.address} is not an IPv4 address`);
  if (config.ipv6 !== undefined && v6 === undefined) throw new RangeError(`preferred address: ${config.ipv6.address} is not an IPv6 address`);
  return {
    ipv4Address: v4 ?? new Uint8Array(4),
    ipv4Port: v4 === undefined ? 0 : config.ipv4!.port,
    ipv6Address: v6 ?? new Uint8Array(16),
    ipv6Port: v6 === undefined ? 0 : config.ipv6!.port,
    connectionId,
    statelessResetToken,
  };
}

/**
 * The client's pick (RFC 9000 §9.6.3: the family it already uses): the address to validate, or undefined when the
 * server offers none in that family. An all-zero address or port 0 means "none".
 */
export function choosePreferredAddress(pa: PreferredAddress, current: PathAddress): PathAddress | undefined {
  const v6 = current.address.includes(':') && !current.address.startsWith('::ffff:');
  if (v6) {
    if (pa.ipv6Port === 0 || pa.ipv6Address.every((b) => b === 0)) return undefined;
    return { address: ipv6Text(pa.ipv6Address), port: pa.ipv6Port };
  }
  if (pa.ipv4Port === 0 || pa.ipv4Address.every((b) => b === 0)) return undefined;
  const a = pa.ipv4Address;
  const text = `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  return { address: current.address.startsWith('::ffff:') ? `::ffff:${text}` : text, port: pa.ipv4Port };
}
