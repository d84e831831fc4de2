import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';

/**
 * Vault's weakly typed request fields (numbers as strings from query strings, "1h" durations,
 * comma-separated lists), as zod schemas. Engines parse `req.data` with these.
 */
export const vBool = z.union([z.boolean(), z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 't', 'true'].includes(s)) return true;
  if (['0', 'f', 'false', ''].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `cannot parse ${JSON.stringify(v)} as a boolean` });
  return z.NEVER;
});

export const vInt = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: 'custom', message: `cannot parse ${JSON.stringify(v)} as an integer` });
    return z.NEVER;
  }
  return n;
});

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses Vault durations: integer seconds, numeric strings, or Go-style `1h30m`, `10s`, `7d`. */
export function parseDurationSeconds(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  const s = v.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) return undefined;
  return Math.floor(total);
}

export const vDuration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseDurationSeconds(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `cannot parse ${JSON.stringify(v)} as a duration` });
    return z.NEVER;
  }
  return n;
});

export const vStringList = z.union([z.array(z.string()), z.string()]).transform((v) =>
  (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
);

export const vIntList = z.union([z.array(z.union([z.number(), z.string()])), z.string(), z.number()]).transform((v, ctx) => {
  const items = Array.isArray(v) ? v : typeof v === 'number' ? [v] : v.split(',');
  const out: number[] = [];
  for (const it of items) {
    const n = typeof it === 'number' ? it : Number(String(it).trim());
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `cannot parse ${JSON.stringify(it)} as an integer` });
      return z.NEVER;
    }
    out.push(n);
  }
  return out;
});

/** Parses request data with a schema; failures become Vault's 400 "Field validation failed". */
export function parseFields<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new ArcaError('ERR_INVALID_REQUEST', `Field validation failed: error converting input for field "${field}": ${issue?.message ?? 'invalid'}`, {
    details: { field },
  });
}
