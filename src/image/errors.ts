// Every failure layerlens reports is one of these: a kind, the file the user named, the member
// inside it (a path in an archive, a blob digest), and what was expected. The CLI prints one
// line from it and exits 2.

export type ErrorKind =
  | 'usage' // the user asked for something that cannot be done (bad flag, no such image)
  | 'format' // the bytes are not what the format says (bad JSON, bad tar header, bad gzip)
  | 'digest' // a blob or diff_id does not hash to what it is named
  | 'missing' // a referenced blob or member is not there
  | 'truncated' // the input ends early
  | 'unsupported' // valid, but a feature layerlens does not read (encrypted layers, ...)
  | 'limit' // a safety limit was hit
  | 'io'; // the operating system refused

export class LayerlensError extends Error {
  readonly kind: ErrorKind;
  readonly file?: string;
  readonly member?: string;

  constructor(kind: ErrorKind, message: string, where: { file?: string; member?: string } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LayerlensError';
    this.kind = kind;
    this.file = where.file;
    this.member = where.member;
  }

  /**
   * One line: `FILE: MEMBER: message`. A crafted archive can name a member with a megabyte of
   * text, or put one in a field a message quotes: each part is shortened to a readable length.
   */
  oneLine(): string {
    const parts: string[] = [];
    if (this.file !== undefined) parts.push(this.file);
    if (this.member !== undefined) parts.push(shorten(this.member));
    parts.push(shorten(this.message.replace(/\s*\n\s*/g, '; ')));
    return parts.join(': ');
  }
}

const MAX_PART = 1000;

/** Text longer than MAX_PART characters, its middle elided (saying how long it was). */
function shorten(s: string): string {
  if (s.length <= MAX_PART) return s;
  return `${s.slice(0, 600)}… (${s.length - 900} characters left out) …${s.slice(-300)}`;
}

export function isLayerlensError(e: unknown): e is LayerlensError {
  return e instanceof LayerlensError;
}
