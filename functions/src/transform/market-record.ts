import * as z from 'zod/mini';
import '../core/zod-messages.js';
import { MARKET_NUMBER_FIELDS, type MarketNumberField } from '../schema/tables.js';

/**
 * Validation of one /coins/markets record. Lenient where real data is messy (ints, floats and
 * exponents, nulls, missing optional fields, extra keys, upper-case symbols, contradictory values)
 * and strict only where a record cannot be loaded: no id/name/symbol, a number that is not one, a
 * timestamp that is not one. Each rejection carries a reason a person can act on.
 */
const requiredText = (field: string) =>
  z
    .string({ error: (i) => `${field} must be a string, got ${describe(i.input)}` })
    .check(z.refine((s) => s.trim() !== '', { message: `${field} is empty` }));

/** `schema`, or null for null and a missing field (both load as NULL). */
const orNull = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.nullish(schema),
    z.transform((v: z.output<T> | null | undefined) => v ?? null),
  );

const nullableNumber = (field: string) =>
  orNull(
    z
      .number({ error: (i) => `${field} must be a number or null, got ${describe(i.input)}` })
      .check(z.refine(Number.isFinite, { message: `${field} is not a finite number` })),
  );

const nullableTimestamp = (field: string) =>
  z.pipe(
    z.nullish(
      z
        .string({ error: (i) => `${field} must be an ISO timestamp or null, got ${describe(i.input)}` })
        .check(
          z.refine((s) => !Number.isNaN(Date.parse(s)), { message: `${field} is not a valid timestamp` }),
        ),
    ),
    z.transform((v: string | null | undefined) => (v == null ? null : new Date(v))),
  );

const numberFields = Object.fromEntries(MARKET_NUMBER_FIELDS.map((f) => [f, nullableNumber(f)])) as {
  [K in MarketNumberField]: ReturnType<typeof nullableNumber>;
};

export const MarketRecordSchema = z.object({
  id: requiredText('id'),
  symbol: requiredText('symbol'),
  name: requiredText('name'),
  image: orNull(z.string({ error: (i) => `image must be a string or null, got ${describe(i.input)}` })),
  market_cap_rank: orNull(
    z
      .number({ error: (i) => `market_cap_rank must be a number or null, got ${describe(i.input)}` })
      .check(z.int({ message: 'market_cap_rank is not an integer' })),
  ),
  ...numberFields,
  last_updated: nullableTimestamp('last_updated'),
  ath_date: nullableTimestamp('ath_date'),
  atl_date: nullableTimestamp('atl_date'),
  roi: orNull(
    z.object(
      {
        times: nullableNumber('roi.times'),
        currency: orNull(z.string()),
        percentage: nullableNumber('roi.percentage'),
      },
      { error: (i) => `roi must be an object or null, got ${describe(i.input)}` },
    ),
  ),
});

export type MarketRecord = z.output<typeof MarketRecordSchema>;

export type RecordCheck =
  { ok: true; record: MarketRecord } | { ok: false; reason: string; coinId: string | null };

/** Validates one record; on failure lists every problem in one reason. */
export function checkMarketRecord(input: unknown): RecordCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, reason: `record must be a JSON object, got ${describe(input)}`, coinId: null };
  }
  const result = MarketRecordSchema.safeParse(input);
  if (result.success) return { ok: true, record: result.data };
  const id = (input as { id?: unknown }).id;
  return {
    ok: false,
    reason: result.error.issues.map((i) => i.message).join('; '),
    coinId: typeof id === 'string' && id.trim() !== '' ? id : null,
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
