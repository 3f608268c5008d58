// Extensible priorities (RFC 9218): the Priority field and PRIORITY_UPDATE frame values, a Structured Field
// Dictionary (RFC 8941) of which we read `u` (urgency 0-7, default 3) and `i` (incremental, default false).
// Unknown members and malformed parts are ignored, as §4 asks.

export interface Priority {
  urgency: number;
  incremental: boolean;
}

export const DEFAULT_PRIORITY: Readonly<Priority> = { urgency: 3, incremental: false };

/** Parses a Priority field value; the defaults stand for whatever is absent or invalid. */
export function parsePriority(value: string | null | undefined, base: Readonly<Priority> = DEFAULT_PRIORITY): Priority {
  const p = { ...base };
  if (value === null || value === undefined) return p;
  for (const member of value.split(',')) {
    const m = member.trim();
    if (m === '') continue;
    const eq = m.indexOf('=');
    const semi = m.indexOf(';');
    const key = m.slice(0, eq >= 0 ? eq : semi >= 0 ? semi : m.length).trim();
    const raw = eq >= 0 ? m.slice(eq + 1, semi > eq ? semi : m.length).trim() : '?1';
    if (key === 'u' && /^[0-7]$/.test(raw)) p.urgency = Number(raw);
    else if (key === 'i' && (raw === '?1' || raw === '?0')) p.incremental = raw === '?1';
  }
  return p;
}

/** Serializes, leaving out defaults (an empty string means "all defaults"). */
export function formatPriority(p: Priority): string {
  const parts: string[] = [];
  if (p.urgency !== DEFAULT_PRIORITY.urgency) parts.push(`u=${p.urgency}`);
  if (p.incremental) parts.push('i');
  return parts.join(', ');
}
