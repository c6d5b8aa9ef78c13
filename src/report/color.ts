// Colour for terminals: ANSI SGR codes, used only where the caller allows them (a terminal, and
// NO_COLOR unset); everywhere else the same text without them.

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: string, close: string) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

const ON: Paint = { green: sgr('32', '39'), red: sgr('31', '39'), yellow: sgr('33', '39'), dim: sgr('2', '22'), bold: sgr('1', '22') };
const id = (s: string) => s;
const OFF: Paint = { green: id, red: id, yellow: id, dim: id, bold: id };

export function paint(enabled: boolean | undefined): Paint {
  return enabled ? ON : OFF;
}

/** Whether colour may be used on a stream: a terminal, NO_COLOR unset or empty (FORCE_COLOR=1 forces it, for tests and pagers). */
export function colorAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}
