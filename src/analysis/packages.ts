// Installed packages, read from the package databases in an image's filesystem: Debian/Ubuntu
// (`var/lib/dpkg/status`, and distroless's `var/lib/dpkg/status.d/*`), Alpine
// (`lib/apk/db/installed`), Red Hat's rpm database in its Berkeley DB form (`var/lib/rpm/Packages`,
// see rpmdb.ts), npm (`node_modules/NAME/package.json`, `node_modules/@SCOPE/NAME/package.json`)
// and Python (`*.dist-info/METADATA`). The rpm database's other forms, SQLite (`rpmdb.sqlite`)
// and NDB (`Packages.db`), are found but not read: they need a reader layerlens does not have,
// and the output says so. Pure functions: the caller hands in the databases' bytes.
import type { FsNode } from '../fs/node.js';
import type { PathMatcher } from '../fs/glob.js';
import { childPath } from '../fs/path.js';
import { parseRpmBerkeley, rpmVersion } from './rpmdb.js';

export type Ecosystem = 'deb' | 'apk' | 'rpm' | 'npm' | 'python';

export type DatabaseKind = 'dpkg-status' | 'dpkg-status.d' | 'apk-installed' | 'npm-package.json' | 'python-metadata' | 'rpm-sqlite' | 'rpm-bdb' | 'rpm-ndb';

export const ECOSYSTEM: Record<DatabaseKind, Ecosystem> = {
  'dpkg-status': 'deb',
  'dpkg-status.d': 'deb',
  'apk-installed': 'apk',
  'npm-package.json': 'npm',
  'python-metadata': 'python',
  'rpm-sqlite': 'rpm',
  'rpm-bdb': 'rpm',
  'rpm-ndb': 'rpm',
};

const RPM_DIRS = ['/var/lib/rpm/', '/usr/lib/sysimage/rpm/', '/usr/share/rpm/'];
const RPM_FILES: Record<string, DatabaseKind> = { 'rpmdb.sqlite': 'rpm-sqlite', Packages: 'rpm-bdb', 'Packages.db': 'rpm-ndb' };

/** What kind of package database a path is, if it is one. */
export function databaseKind(path: string): DatabaseKind | undefined {
  if (path === '/var/lib/dpkg/status') return 'dpkg-status';
  if (path.startsWith('/var/lib/dpkg/status.d/')) {
    const name = path.slice('/var/lib/dpkg/status.d/'.length);
    return name && !name.includes('/') && !name.endsWith('.md5sums') ? 'dpkg-status.d' : undefined;
  }
  if (path === '/lib/apk/db/installed' || path === '/usr/lib/apk/db/installed') return 'apk-installed';
  if (path.endsWith('/package.json')) {
    const parts = path.split('/');
    const n = parts.length;
    // .../node_modules/NAME/package.json or .../node_modules/@SCOPE/NAME/package.json
    if (n >= 4 && parts[n - 3] === 'node_modules' && !parts[n - 2]!.startsWith('.') && !parts[n - 2]!.startsWith('@')) return 'npm-package.json';
    if (n >= 5 && parts[n - 4] === 'node_modules' && parts[n - 3]!.startsWith('@') && !parts[n - 2]!.startsWith('.')) return 'npm-package.json';
    return undefined;
  }
  if (path.endsWith('.dist-info/METADATA')) return 'python-metadata';
  for (const dir of RPM_DIRS) {
    if (path.startsWith(dir)) {
      const kind = RPM_FILES[path.slice(dir.length)];
      if (kind) return kind;
    }
  }
  return undefined;
}

/**
 * Matches the tar name of every database databaseKind() names and isReadable() reads (and may
 * match more): `./var/lib/dpkg/status`, `usr/lib/node_modules/npm/package.json`, ... A pattern,
 * so that a reading thread can keep such files' content as they stream past.
 */
export const DATABASE_NAMES =
  /(?:^|\/)(?:var\/lib\/dpkg\/status(?:\.d\/[^/]+)?|(?:usr\/)?lib\/apk\/db\/installed|(?:var\/lib\/rpm|usr\/lib\/sysimage\/rpm|usr\/share\/rpm)\/Packages)$|(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/]+\/package\.json$|\.dist-info\/METADATA$/;

/** Whether a database is read (its content is needed); rpm's SQLite and NDB forms are only noted. */
export function isReadable(kind: DatabaseKind): boolean {
  return kind !== 'rpm-sqlite' && kind !== 'rpm-ndb';
}

export interface DatabaseFile {
  path: string;
  kind: DatabaseKind;
  node: FsNode;
}

/** The package databases in a filesystem (regular files only), paths matched by `ignore` left out. */
export function findDatabases(root: FsNode, ignore?: PathMatcher): DatabaseFile[] {
  const out: DatabaseFile[] = [];
  const walk = (n: FsNode, path: string) => {
    if (!n.children) return;
    for (const [name, c] of n.children) {
      const p = childPath(path, name);
      if (ignore?.(p)) continue;
      if (c.type === 'dir') walk(c, p);
      else if (c.type === 'file') {
        const kind = databaseKind(p);
        if (kind) out.push({ path: p, kind, node: c });
      }
    }
  };
  walk(root, '/');
  return out;
}

export interface Package {
  ecosystem: Ecosystem;
  name: string;
  version: string;
}

/** RFC 822-style stanzas (dpkg's control format): fields, continuation lines skipped. */
function stanzas(text: string): Array<Map<string, string>> {
  const out: Array<Map<string, string>> = [];
  let cur = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) cur.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}

/**
 * dpkg's status file: every package whose status is not `not-installed` or `config-files`
 * (removed, configuration left). Named as `dpkg-query` names them: `NAME`, or `NAME:ARCH` for a
 * `Multi-Arch: same` package, which may be installed for several architectures at once.
 */
export function parseDpkgStatus(text: string): Package[] {
  const out: Package[] = [];
  for (const s of stanzas(text)) {
    const name = s.get('package');
    if (!name) continue;
    const state = (s.get('status') ?? 'install ok installed').split(/\s+/)[2];
    if (state === 'not-installed' || state === 'config-files') continue;
    const arch = s.get('architecture');
    const qualified = s.get('multi-arch') === 'same' && arch ? `${name}:${arch}` : name;
    out.push({ ecosystem: 'deb', name: qualified, version: s.get('version') ?? '' });
  }
  return out;
}

/** apk's installed database: one block per package, `P:` name, `V:` version. */
export function parseApkInstalled(text: string): Package[] {
  const out: Package[] = [];
  let name: string | undefined;
  let version = '';
  const flush = () => {
    if (name) out.push({ ecosystem: 'apk', name, version });
    name = undefined;
    version = '';
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') flush();
    else if (line.startsWith('P:')) name = line.slice(2);
    else if (line.startsWith('V:')) version = line.slice(2);
  }
  flush();
  return out;
}

/** An npm package's package.json: its name and version (the folder's name when it has none). */
export function parsePackageJson(text: string, path: string): Package[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const o = doc as Record<string, unknown>;
  const parts = path.split('/');
  const dir = parts[parts.length - 3]?.startsWith('@') ? `${parts[parts.length - 3]}/${parts[parts.length - 2]}` : parts[parts.length - 2]!;
  const name = typeof o.name === 'string' && o.name ? o.name : dir;
  return [{ ecosystem: 'npm', name, version: typeof o.version === 'string' ? o.version : '' }];
}

/** PEP 503 normalised name: lower case, runs of `-`, `_` and `.` as one `-`. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A wheel's `*.dist-info/METADATA`: the `Name:` and `Version:` headers. */
export function parsePythonMetadata(text: string): Package[] {
  let name: string | undefined;
  let version = '';
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the headers end at the first blank line
    if (/^name:/i.test(line)) name = line.slice(5).trim();
    else if (/^version:/i.test(line)) version = line.slice(8).trim();
  }
  return name ? [{ ecosystem: 'python', name: normalizePythonName(name), version }] : [];
}

/** The packages a database lists; throws when its bytes are not what its kind says. */
export function parseDatabase(kind: DatabaseKind, data: Buffer, path: string): Package[] {
  const text = kind === 'rpm-bdb' ? '' : data.toString('utf8');
  switch (kind) {
    case 'dpkg-status':
    case 'dpkg-status.d':
      return parseDpkgStatus(text);
    case 'apk-installed':
      return parseApkInstalled(text);
    case 'npm-package.json':
      return parsePackageJson(text, path);
    case 'python-metadata':
      return parsePythonMetadata(text);
    case 'rpm-bdb':
      return parseRpmBerkeley(data).map((p) => ({ ecosystem: 'rpm', name: p.name, version: rpmVersion(p) }));
    default:
      return [];
  }
}

/** A database as found in one image: where, what kind, its content's sha256, and what it lists (undefined: not read). */
export interface DatabaseContent {
  path: string;
  kind: DatabaseKind;
  sha256?: string;
  packages?: Package[];
  /** Why a readable database was not read. */
  error?: string;
}

export interface PackageChange {
  ecosystem: Ecosystem;
  name: string;
  /** Versions, joined with ", " when several copies are installed (npm, Python). */
  a?: string;
  b?: string;
}

export interface PackagesDiff {
  /** Every database found, per side: the ecosystem, the path, how many packages it lists (null where absent or not read). */
  databases: Array<{ ecosystem: Ecosystem; kind: DatabaseKind; path: string; a: number | null; b: number | null }>;
  added: Array<{ ecosystem: Ecosystem; name: string; version: string }>;
  removed: Array<{ ecosystem: Ecosystem; name: string; version: string }>;
  changed: Array<{ ecosystem: Ecosystem; name: string; a: string; b: string }>;
  /** What could not be compared, and why. */
  notes: string[];
}

const RPM_FORMAT: Partial<Record<DatabaseKind, string>> = { 'rpm-sqlite': 'SQLite', 'rpm-ndb': 'NDB' };

function versionsByName(dbs: DatabaseContent[]): Map<string, { ecosystem: Ecosystem; name: string; versions: string[] }> {
  const out = new Map<string, { ecosystem: Ecosystem; name: string; versions: string[] }>();
  for (const db of dbs) {
    for (const p of db.packages ?? []) {
      const key = `${p.ecosystem}\0${p.name}`;
      const e = out.get(key) ?? { ecosystem: p.ecosystem, name: p.name, versions: [] };
      if (!e.versions.includes(p.version)) e.versions.push(p.version);
      out.set(key, e);
    }
  }
  for (const e of out.values()) e.versions.sort();
  return out;
}

export function diffPackages(a: DatabaseContent[], b: DatabaseContent[]): PackagesDiff {
  const paths = new Map<string, { kind: DatabaseKind; a?: DatabaseContent; b?: DatabaseContent }>();
  for (const d of a) paths.set(d.path, { kind: d.kind, a: d });
  for (const d of b) paths.set(d.path, { ...(paths.get(d.path) ?? { kind: d.kind }), b: d });
  const databases: PackagesDiff['databases'] = [];
  const notes: string[] = [];
  // npm and Python databases are one file per package: listed per ecosystem, not per file.
  const perFile = new Map<Ecosystem, { a: number | null; b: number | null; count: number }>();
  for (const [path, e] of [...paths].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const eco = ECOSYSTEM[e.kind];
    if (e.kind === 'npm-package.json' || e.kind === 'python-metadata') {
      const t = perFile.get(eco) ?? { a: null, b: null, count: 0 };
      if (e.a) t.a = (t.a ?? 0) + (e.a.packages?.length ?? 0);
      if (e.b) t.b = (t.b ?? 0) + (e.b.packages?.length ?? 0);
      perFile.set(eco, t);
      continue;
    }
    for (const [side, d] of [['first', e.a], ['second', e.b]] as const) if (d?.error) notes.push(`${path} in the ${side} image: not read: ${d.error}`);
    const format = RPM_FORMAT[e.kind];
    if (format) {
      const where = e.a && e.b ? (e.a.sha256 === e.b.sha256 ? 'the same file in both images' : 'in both images, with different content') : e.a ? 'only in the first image' : 'only in the second image';
      notes.push(`${path}: an rpm database (${format}), ${where}; layerlens does not read ${format} without rpm, so rpm packages are not compared`);
    }
    databases.push({ ecosystem: eco, kind: e.kind, path, a: e.a ? e.a.packages?.length ?? null : null, b: e.b ? e.b.packages?.length ?? null : null });
  }
  for (const [eco, t] of perFile) {
    databases.push({ ecosystem: eco, kind: eco === 'npm' ? 'npm-package.json' : 'python-metadata', path: eco === 'npm' ? '**/node_modules/*/package.json' : '**/*.dist-info/METADATA', a: t.a, b: t.b });
  }
  // A database one side could not read is left out on both: not read is not removed.
  const unread = new Set([...a, ...b].filter((d) => isReadable(d.kind) && d.packages === undefined).map((d) => d.path));
  const va = versionsByName(a.filter((d) => !unread.has(d.path)));
  const vb = versionsByName(b.filter((d) => !unread.has(d.path)));
  const added: PackagesDiff['added'] = [];
  const removed: PackagesDiff['removed'] = [];
  const changed: PackagesDiff['changed'] = [];
  for (const [key, x] of va) {
    const y = vb.get(key);
    if (!y) removed.push({ ecosystem: x.ecosystem, name: x.name, version: x.versions.join(', ') });
    else if (x.versions.join('\0') !== y.versions.join('\0')) changed.push({ ecosystem: x.ecosystem, name: x.name, a: x.versions.join(', '), b: y.versions.join(', ') });
  }
  for (const [key, y] of vb) if (!va.has(key)) added.push({ ecosystem: y.ecosystem, name: y.name, version: y.versions.join(', ') });
  const order = (p: { ecosystem: string; name: string }, q: { ecosystem: string; name: string }) => (p.ecosystem < q.ecosystem ? -1 : p.ecosystem > q.ecosystem ? 1 : p.name < q.name ? -1 : p.name > q.name ? 1 : 0);
  added.sort(order);
  removed.sort(order);
  changed.sort(order);
  return { databases, added, removed, changed, notes };
}
