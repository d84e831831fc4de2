/**
 * HTTP load from a separate process: Debian's `wrk` (C, epoll), per docs/benchmarks.md. An in-process
 * Node client saturates near 10k req/s on this machine and so capped the bare baseline and inflated
 * every ratio; wrk answers 80k/s against the same bare server.
 *
 * The request (method, body, headers incl. X-Vault-Token) goes in a Lua script written to a private
 * temp file, so the token is not on a command line. Each run is bounded by `-d`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procCpu } from './proc.ts';
import { round3 } from './report.ts';

export interface WrkRequest {
  port: number;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** `https` for TLS servers (wrk does not verify the certificate). Default http. */
  scheme?: 'http' | 'https';
}

export interface WrkResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's own CPU use over the run (CPU seconds / wall seconds, 1 thread): near 1 = the generator is the limit. */
  generatorCpu: number;
}

/** A Lua long string that cannot be closed early by `s`. (Index with `t[ [[k]] ]`: `t[[[k]]]` is a call.) */
function luaString(s: string): string {
  let eq = '';
  while (s.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${s}]${eq}]`;
}

export function luaScript(r: WrkRequest): string {
  const lines = [`wrk.method = ${luaString(r.method)}`];
  if (r.body !== undefined) {
    lines.push(`wrk.body = ${luaString(r.body)}`);
    lines.push(`wrk.headers["Content-Type"] = "application/json"`);
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`);
  return `${lines.join('\n')}\n`;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot parse duration ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Parses wrk's text output (run with --latency). Throws on socket errors or non-2xx answers. */
export function parseWrk(out: string): Omit<WrkResult, 'generatorCpu'> {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in /.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!rps || !total || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} of ${total[1]} answers were not 2xx`);
  const sock = /Socket errors: (.*)/.exec(out);
  if (sock) throw new Error(`wrk: socket errors: ${sock[1]}`);
  return { rps: Number(rps[1]), requests: Number(total[1]), p50Ms: round3(durationMs(p50[1]!)), p99Ms: round3(durationMs(p99[1]!)) };
}

/** One bounded wrk run, `-t1 -c<connections> -d<seconds>s --latency`. */
export async function wrk(r: WrkRequest, connections: number, seconds: number): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-wrk-'));
  try {
    const script = join(dir, 'req.lua');
    writeFileSync(script, luaScript(r), { mode: 0o600 });
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `${r.scheme ?? 'http'}://127.0.0.1:${r.port}${r.path}`];
    const cpu0 = procCpu('self').childrenUs;
    const t0 = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.on('error', (err) => reject(new Error(`cannot run wrk (apt-get install wrk): ${err.message}`)));
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}:\n${text}`))));
    });
    const wallMs = performance.now() - t0;
    return { ...parseWrk(out), generatorCpu: Math.round(((procCpu('self').childrenUs - cpu0) / 1000 / wallMs) * 100) / 100 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
