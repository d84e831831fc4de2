/**
 * The files the check reads, behind a small interface: the real host (optionally under a root
 * directory, e.g. a mounted node image) or an in-memory host built from test fixtures.
 */
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileStat {
  /** permission bits (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  dir: boolean;
  socket: boolean;
}

export interface Host {
  /** undefined when the file does not exist or cannot be read */
  read(path: string): Promise<string | undefined>;
  stat(path: string): Promise<FileStat | undefined>;
  /** entry names; [] when the directory does not exist */
  list(dir: string): Promise<string[]>;
  /** paths given on the command line are host paths; container paths are mapped before use */
  describe(path: string): string;
}

export function realHost(root = '/'): Host {
  const p = (path: string) => (root === '/' ? path : join(root, path));
  return {
    async read(path) {
      return readFile(p(path), 'utf8').catch(() => undefined);
    },
    async stat(path) {
      const s = await lstat(p(path)).catch(() => undefined);
      if (!s) return undefined;
      return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, dir: s.isDirectory(), socket: s.isSocket() };
    },
    async list(dir) {
      return readdir(p(dir)).catch(() => []);
    },
    describe: (path) => path,
  };
}

export interface MemoryFile {
  content?: string;
  mode: number;
  uid?: number;
  gid?: number;
  dir?: boolean;
  socket?: boolean;
}

/** An in-memory host: path → file. Directories are implied by their files unless listed. */
export function memoryHost(files: ReadonlyMap<string, MemoryFile>): Host {
  return {
    async read(path) {
      return files.get(path)?.content;
    },
    async stat(path) {
      const f = files.get(path);
      if (f) return { mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0, dir: f.dir === true, socket: f.socket === true };
      const prefix = path.endsWith('/') ? path : `${path}/`;
      for (const k of files.keys()) if (k.startsWith(prefix)) return { mode: 0o755, uid: 0, gid: 0, dir: true, socket: false };
      return undefined;
    },
    async list(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = new Set<string>();
      for (const k of files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
      return [...names].sort();
    },
    describe: (path) => path,
  };
}

export function modeString(s: FileStat): string {
  const bits = 'rwxrwxrwx';
  let out = s.dir ? 'd' : s.socket ? 's' : '-';
  for (let i = 0; i < 9; i++) out += s.mode & (1 << (8 - i)) ? bits[i] : '-';
  return `${out} ${s.uid}:${s.gid}`;
}

/** "≤ limit" as a bitmask test: no permission bit outside those of the limit. */
export function withinMode(mode: number, limit: number): boolean {
  return (mode & 0o777 & ~limit) === 0;
}
