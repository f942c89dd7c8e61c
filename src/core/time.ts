/**
 * Provider time → UTC ISO 8601 with `Z`. Fractional seconds are kept exactly as the provider gave
 * them (Mailgun's microseconds included) and never added when it gave none. Never invents a time:
 * garbage yields null.
 */

const EPOCH = /^(\d{1,13})(?:\.(\d{1,9}))?$/;

/**
 * Unix time as a number or numeric string: seconds with an optional fraction, or a 13-digit
 * millisecond value (some SendGrid examples). Returns null when the value is not a time.
 */
export function isoFromEpochSeconds(value: unknown): string | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    text = String(value);
    if (/e/i.test(text)) return null;
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return null;
  }
  const m = EPOCH.exec(text);
  if (!m) return null;
  let whole = m[1]!;
  let fraction = m[2] ?? '';
  if (whole.length === 13 && fraction === '') {
    // Milliseconds: keep them as a 3-digit fraction, because the provider did state them.
    fraction = whole.slice(10);
    whole = whole.slice(0, 10);
  } else if (whole.length > 11) {
    return null;
  }
  const date = new Date(Number(whole) * 1000);
  if (Number.isNaN(date.getTime())) return null;
  const base = date.toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  return fraction ? `${base}.${fraction}Z` : `${base}Z`;
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An ISO 8601 / RFC 3339 timestamp string (any offset) → UTC with `Z`, keeping the fraction digits
 * as given. A string without an offset is taken as UTC. Returns null when unparseable.
 */
export function isoFromString(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = ISO.exec(value.trim());
  if (!m) return null;
  const [, day, time, fraction, zone] = m;
  if (!isRealDateTime(day!, time!)) return null;
  const offset =
    !zone || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${day}T${time}${offset}`);
  if (Number.isNaN(date.getTime())) return null;
  const base = date.toISOString().slice(0, 19);
  return fraction ? `${base}.${fraction}Z` : `${base}Z`;
}

/** True when `YYYY-MM-DD` and `hh:mm:ss` name a real instant (Date would roll 30 February into March). */
function isRealDateTime(day: string, time: string): boolean {
  const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
  const [h, mi, sec] = time.split(':').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === sec
  );
}

/** A Date → ISO with milliseconds (for receipt times we measured ourselves). */
export function isoFromDate(date: Date): string {
  return date.toISOString();
}
