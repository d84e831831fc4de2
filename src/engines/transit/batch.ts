/**
 * Vault's `batch_input` semantics: results keep input order, each echoes its `reference` (`""` when
 * absent) and carries either its result fields or `error`. Any failed item turns the reply into a
 * 400 that still carries the full envelope (no `errors` key); `partial_failure_response_code`
 * replaces that status when at least one item succeeded.
 *
 * Item errors are the caller's (bad base64, wrong context, disallowed version): their message goes
 * into the item. A server-side failure (HSM gone, storage down) aborts the whole request instead, so
 * the core logs it and answers 5xx — item results must not hide an outage.
 */
import type { z } from 'zod';
import { ArcaError, HTTP_STATUS, isArcaError } from '../../errors/index.ts';
import { issueCode, outOfRange } from '../fields.ts';
import type { EngineResponse } from '../types.ts';

export interface BatchItem {
  reference?: string | undefined;
  context?: string | undefined;
}

/** Parses `batch_input`; an item that is not the right shape fails the whole request, as in Vault. */
export function parseBatch<S extends z.ZodType>(schema: S, raw: unknown[]): z.output<S>[] {
  if (raw.length === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'missing batch input to process');
  return raw.map((item, i) => {
    const clean = item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).filter(([, v]) => v !== null))
      : item;
    const r = schema.safeParse(clean);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      // A range failure keeps its code (see fields.ts); the message never quotes the value.
      throw new ArcaError(issueCode(issue), `failed to parse batch input: item ${i}${field ? ` field "${field}"` : ''}: ${issue?.message ?? 'invalid'}`, { details: { field } });
    }
    return r.data;
  });
}

/** `context` must be set in all items or in none (Vault refuses a mix). */
export function checkContextConsistency(items: BatchItem[]): void {
  const withCtx = items.filter((i) => i.context !== undefined && i.context !== '').length;
  if (withCtx !== 0 && withCtx !== items.length) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'context should be set either in all the request blocks or in none');
  }
}

/**
 * How a batch reports failed items. Vault's encrypt, decrypt and rewrap answer 400 (the default);
 * its hmac and verify answer 200 and put `valid: false` in every item, failed ones included
 * (`okWith`: the fields a failed item carries besides `error`).
 */
export interface BatchReport {
  okWith?: Record<string, unknown>;
}

export async function runBatch<I extends BatchItem>(
  items: I[],
  partialFailureCode: number | undefined,
  fn: (item: I) => Promise<Record<string, unknown>>,
  report: BatchReport = {},
): Promise<EngineResponse> {
  const results: Record<string, unknown>[] = [];
  let failed = 0;
  for (const item of items) {
    const reference = item.reference ?? '';
    try {
      results.push({ ...(await fn(item)), reference });
    } catch (err) {
      if (!isArcaError(err) || !err.expose || HTTP_STATUS[err.code] >= 500) throw err;
      failed++;
      results.push({ ...report.okWith, error: err.message, reference });
    }
  }
  const data = { batch_results: results };
  if (failed === 0 || report.okWith) return { data };
  const status = failed < items.length && partialFailureCode !== undefined ? partialFailureCode : 400;
  return { status, data };
}

export function checkPartialFailureCode(code: number | undefined): number | undefined {
  if (code === undefined || code === 0) return undefined;
  if (code < 200 || code > 599) {
    throw outOfRange('partial_failure_response_code', 'must be 0 (unset) or an HTTP status between 200 and 599');
  }
  return code;
}
