/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and attributes sample time to functions
 * (self time), to areas of the tree (src/http, src/core, node_modules/<pkg>, node:<module>, ...) and
 * to chosen functions inclusively (self + callees). No external tool: the format is a call tree
 * (`nodes`, each with a callFrame and children) plus `samples` (node ids) and `timeDeltas` (µs).
 *
 * `window` keeps only samples taken in [fromUs, toUs] of the profile's clock, which is the monotonic
 * clock process.hrtime() reads on Linux, so a driver can cut server start-up and shut-down out.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FnTime {
  key: string;
  area: string;
  selfUs: number;
}

export interface Summary {
  /** Sampled time inside the window, µs (idle included). */
  totalUs: number;
  idleUs: number;
  functions: FnTime[];
  areas: Map<string, number>;
  /** Inclusive µs (self + callees) per function, each sample counted once per function on its stack. */
  inclusive: FnTime[];
}

/** The area of the tree a frame belongs to, for "where does a request's time go" by stage. */
export function areaOf(f: CallFrame): string {
  const u = f.url;
  if (!u) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const src = /\/src\/([^/]+)(?:\/([^/]+)\/)?/.exec(u);
  if (src && !u.includes('/node_modules/')) return src[2] && src[1] === 'engines' ? `src/engines/${src[2]}` : `src/${src[1]}`;
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return `npm:${nm[1]}`;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(u);
  if (internal) return `node:${internal[1]}`;
  return u;
}

function shortUrl(u: string): string {
  const i = u.lastIndexOf('/src/');
  if (i >= 0 && !u.includes('/node_modules/')) return u.slice(i + 1);
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  return u.replace(/^file:\/\//, '');
}

function keyOf(cf: CallFrame): string {
  return `${cf.functionName || '(anonymous)'} ${cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();
}

export function summarise(file: string, window?: { fromUs: number; toUs: number }): Summary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfByNode = new Map<number, number>();
  let t = p.startTime;
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    // A sample's delta is the time since the previous one: charge it to this sample's frame.
    selfByNode.set(p.samples[i]!, (selfByNode.get(p.samples[i]!) ?? 0) + dt);
    totalUs += dt;
  }
  const fns = new Map<string, FnTime>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfByNode) {
    const cf = byId.get(id)!.callFrame;
    const key = keyOf(cf);
    const area = areaOf(cf);
    const f = fns.get(key) ?? { key, area, selfUs: 0 };
    f.selfUs += us;
    fns.set(key, f);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const functions = [...fns.values()].sort((a, b) => b.selfUs - a.selfUs);
  const incl = new Map<string, FnTime>();
  for (const [id, us] of selfByNode) {
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const cf = byId.get(n)!.callFrame;
      const key = keyOf(cf);
      if (seen.has(key)) continue;
      seen.add(key);
      const f = incl.get(key) ?? { key, area: areaOf(cf), selfUs: 0 };
      f.selfUs += us;
      incl.set(key, f);
    }
  }
  return { totalUs, idleUs: areas.get('(idle)') ?? 0, functions, areas, inclusive: [...incl.values()].sort((a, b) => b.selfUs - a.selfUs) };
}
