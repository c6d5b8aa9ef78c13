// The number languages of CI rule files. A `.dive-ci` is read exactly as dive reads it, so its
// values go through the parsers dive uses: Go's strconv.ParseFloat for ratios and go-humanize's
// ParseBytes for byte counts. `.layerlens.yml` uses the same two, so one file's `20MB` means
// the same in both, plus percentages for growth limits.

/**
 * Go's `strconv.ParseFloat(s, 64)`: a decimal or hexadecimal float with an optional sign and
 * exponent, or `inf`/`infinity`/`nan` in any case; no surrounding spaces, no underscores (Go
 * allows them only after a base prefix). A finite text that overflows is an error, as in Go.
 * Returns undefined where Go returns an error.
 */
export function parseGoFloat(s: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  }
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const [, sign, int = '', frac = '', exp] = hex;
    if (int === '' && frac === '') return undefined;
    let v = 0;
    for (const c of int + frac) v = v * 16 + parseInt(c, 16);
    v = v * 2 ** (Number(exp) - 4 * frac.length);
    if (!Number.isFinite(v)) return undefined;
    return sign === '-' ? -v : v;
  }
  return undefined;
}

const KI = 1024;
const K = 1000;
/** go-humanize's bytesSizeTable: SI and IEC names, with and without the trailing `b`. */
const BYTE_UNITS: Record<string, number> = {
  b: 1,
  '': 1,
  kib: KI,
  ki: KI,
  kb: K,
  k: K,
  mib: KI ** 2,
  mi: KI ** 2,
  mb: K ** 2,
  m: K ** 2,
  gib: KI ** 3,
  gi: KI ** 3,
  gb: K ** 3,
  g: K ** 3,
  tib: KI ** 4,
  ti: KI ** 4,
  tb: K ** 4,
  t: K ** 4,
  pib: KI ** 5,
  pi: KI ** 5,
  pb: K ** 5,
  p: K ** 5,
  eib: KI ** 6,
  ei: KI ** 6,
  eb: K ** 6,
  e: K ** 6,
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * go-humanize's `ParseBytes`: the leading run of digits, `.` and `,` is the number (commas
 * dropped), the rest, trimmed and lower-cased, a unit from its table: `20Mb` is 20,000,000
 * bytes, `1.5 GiB` 1,610,612,736, `512` 512. A leading space, a sign or an unknown unit is an
 * error. The result is cut to a whole number, as Go's uint64 conversion cuts it.
 */
export function parseHumanBytes(s: string): Parsed<number> {
  const m = /^[\p{Nd}.,]*/u.exec(s)!;
  const num = m[0].replace(/,/g, '');
  const f = parseGoFloat(num);
  if (f === undefined || Number.isNaN(f)) return { ok: false, error: `strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax` };
  const unit = s.slice(m[0].length).trim().toLowerCase();
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) return { ok: false, error: `unhandled size name: ${unit}` };
  const v = f * mult;
  if (v >= 2 ** 64) return { ok: false, error: `too large: ${s}` };
  return { ok: true, value: Math.floor(v) };
}

/** A limit that is either a byte count or a share of a baseline (`10%`). */
export type GrowthLimit = { bytes: number } | { percent: number };

export function parseGrowth(s: string): Parsed<GrowthLimit> {
  const pct = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(s);
  if (pct) return { ok: true, value: { percent: Number(pct[1]) } };
  const b = parseHumanBytes(s.trim());
  return b.ok ? { ok: true, value: { bytes: b.value } } : b;
}
