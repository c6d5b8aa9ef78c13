// Sizes and times printed the way docker prints them (go-units): decimal units with three
// significant digits ("367kB"), and durations as "2 years ago".

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's %.{p}g: p significant digits, trailing zeros dropped, exponent form for large exponents. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  let text = value.toPrecision(precision);
  // toPrecision may round up into the next power (999.6 -> "1.00e+3").
  if (exponent < -4 || exponent >= precision || text.includes('e')) {
    const [mant, exp] = value.toExponential(precision - 1).split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
    const e = Number(exp);
    if (e >= -4 && e < precision) return formatG(Number(`${m}e${e}`), precision);
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (text.includes('.')) text = text.replace(/\.?0+$/, '');
  return text;
}

/** docker's units.HumanSizeWithPrecision(size, 3). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, 3)}${DECIMAL_UNITS[i]}`;
}

/** docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

/** "2 years ago", or "N/A" for a missing or unreadable time, as docker shows. */
export function timeAgo(created: string | undefined, now: number): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** RFC 3339 in UTC, seconds precision, for --human=false. */
export function isoTime(created: string | undefined): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t)) return '';
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * docker's formatter.Ellipsis: cut to `max` display columns, ending with "…". A width of 1 keeps
 * the first character alone (whatever its width), and 0 or less gives nothing.
 */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  if (displayWidth(s) <= max) return s;
  const width = (c: string) => charWidth(c.codePointAt(0)!);
  let out = '';
  let w = 0;
  for (const c of chars) {
    if (w + width(c) > max - 1) break;
    out += c;
    w += width(c);
  }
  return `${out}…`;
}

/** Columns a character takes on a terminal: 2 for East Asian wide and full-width characters and emoji, else 1. */
export function charWidth(cp: number): number {
  return isWide(cp) ? 2 : 1;
}

/** Columns a string takes on a terminal (what docker's tabwriter pads by). */
export function displayWidth(s: string): number {
  // By code units, a character at a time only past the first wide range (U+1100): the string
  // iterator made a string of each character, for every cell of every table.
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x1100) {
      w++;
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    w += charWidth(cp);
  }
  return w;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}
