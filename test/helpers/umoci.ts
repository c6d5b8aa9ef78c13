// umoci as a peer to test against: unpack an OCI layout with `umoci unpack` and list the rootfs
// the way the corpus goldens were made (../shared/corpus/list-rootfs.sh, or the same listing in
// TypeScript where that script is absent). umoci comes from Debian (`apt-get install umoci`;
// .ci/run installs it); where it is missing, or where the tests do not run as root (umoci then
// needs --rootless, which turns devices into empty files), the tests that need it say so and
// fall back to the reference model.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bytewise } from './reference-union.js';
import { SHARED } from './shared.js';

function findUmoci(): string | undefined {
  const fromEnv = process.env.UMOCI;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/local/bin', '/usr/sbin'])) {
    const p = path.join(dir, 'umoci');
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export const UMOCI = findUmoci();
const IS_ROOT = process.getuid?.() === 0;
/** Why umoci cannot be the peer here, or undefined when it can. */
export const UMOCI_MISSING = !UMOCI ? 'umoci is not installed (apt-get install umoci)' : !IS_ROOT ? 'the tests do not run as root, and umoci unpack needs root to make devices and owners' : undefined;

export const UMOCI_VERSION = UMOCI ? spawnSync(UMOCI, ['--version'], { encoding: 'utf8' }).stdout.trim() : undefined;

export type Unpacked = { ok: true; rootfs: string } | { ok: false; error: string };

/** `umoci unpack --image LAYOUT:REF BUNDLE` with umask 022, as the corpus goldens were made. */
export function umociUnpack(layout: string, ref: string, bundle: string): Unpacked {
  if (!UMOCI) throw new Error('umoci is not installed');
  const r = spawnSync('/bin/sh', ['-c', 'umask 022 && exec "$0" unpack --image "$1" "$2"', UMOCI, `${layout}:${ref}`, bundle], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop()! };
  return { ok: true, rootfs: path.join(bundle, 'rootfs') };
}

const LIST_ROOTFS = path.join(SHARED, 'corpus', 'list-rootfs.sh');

/** The rootfs.tsv lines (no header) of a directory: the corpus script where it is, else listRootfsTs. */
export function listRootfs(dir: string): string[] {
  if (fs.existsSync(LIST_ROOTFS)) {
    const text = execFileSync('bash', [LIST_ROOTFS, dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  }
  return listRootfsTs(dir);
}

/**
 * What list-rootfs.sh prints, in TypeScript: one line per path (the root is "/"), sorted
 * bytewise: path, type (f d l p c b s), mode (4 octal digits), uid, gid, size and sha256 of
 * regular files, symlink target or "major,minor", and the bytewise-smallest path of a regular
 * file's inode group when it has more than one link.
 */
export function listRootfsTs(dir: string): string[] {
  const rows: Array<{ path: string; st: fs.Stats; fields: string[] }> = [];
  const visit = (rel: string) => {
    const full = rel === '/' ? dir : path.join(dir, rel);
    const st = fs.lstatSync(full);
    const type = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : 's';
    const rdev = st.rdev;
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);
    const link = type === 'l' ? fs.readlinkSync(full) : type === 'c' || type === 'b' ? `${major},${minor}` : '-';
    const fields = [
      type,
      (st.mode & 0o7777).toString(8).padStart(4, '0'),
      String(st.uid),
      String(st.gid),
      type === 'f' ? String(st.size) : '-',
      type === 'f' ? createHash('sha256').update(fs.readFileSync(full)).digest('hex') : '-',
      link,
    ];
    rows.push({ path: rel, st, fields });
    if (type === 'd') for (const name of fs.readdirSync(full)) visit(rel === '/' ? `/${name}` : `${rel}/${name}`);
  };
  visit('/');
  const groups = new Map<number, string>();
  for (const r of rows) {
    if (!r.st.isFile() || r.st.nlink < 2) continue;
    const first = groups.get(r.st.ino);
    if (first === undefined || bytewise(r.path, first) < 0) groups.set(r.st.ino, r.path);
  }
  return rows
    .sort((a, b) => bytewise(a.path, b.path))
    .map((r) => [r.path, ...r.fields, r.st.isFile() && r.st.nlink > 1 ? groups.get(r.st.ino)! : '-'].join('\t'));
}
