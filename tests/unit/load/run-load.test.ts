import type { RunEvent } from '../../../functions/src/core/event.js';
import type { Logger, LogFields, Severity } from '../../../functions/src/core/logger.js';
import type { Clock, RawObjectRef, RawStore } from '../../../functions/src/core/ports.js';
import { encodeRawObject, type RawManifest } from '../../../functions/src/core/raw-object.js';
import type { LoadOutcome, StarBatch, Warehouse } from '../../../functions/src/core/warehouse.js';
import { LoadError } from '../../../functions/src/load/errors.js';
import { runLoad } from '../../../functions/src/load/run-load.js';
import { QUALITY_CHECKS } from '../../../functions/src/quality/checks.js';
import { QUALITY_CHECK_FAILED } from '../../../functions/src/quality/log-failures.js';
import type { QualityCheckRow, RunRow } from '../../../functions/src/schema/tables.js';

/**
 * run-load's already-loaded fast path against a warehouse that behaves like BigQuery's: the merge
 * commits the run, then the quality checks are recorded by a step of their own, which can fail
 * after the commit. A run is skipped only when it is loaded with its checks; a run loaded without
 * them is applied again, which writes nothing twice and records the checks.
 */

const RUN_ID = 'coingecko_usd_20261121T050000Z';
const SLOT = '2026-11-21T05:00:00.000Z';
const REF: RawObjectRef = {
  bucket: 'lake',
  key: `raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/${RUN_ID}.json`,
  generation: '1763701200123456',
};

const event: RunEvent = {
  schemaVersion: 1,
  kind: 'raw_snapshot',
  runId: RUN_ID,
  source: 'coingecko',
  vsCurrency: 'usd',
  slot: SLOT,
  bucket: REF.bucket,
  object: REF.key,
  generation: REF.generation,
  recordCount: 2,
};

const coin = (id: string) => ({
  id,
  symbol: id.slice(0, 3),
  name: id,
  image: null,
  current_price: 1,
  market_cap: 10,
  last_updated: '2026-11-21T04:59:00Z',
});

/** The run's raw object: two coins of the three asked for (so record_count fails, a warning). */
function rawObject(): Buffer {
  const manifest: RawManifest = {
    schemaVersion: 1,
    runId: RUN_ID,
    source: 'coingecko',
    endpoint: '/api/v3/coins/markets',
    vsCurrency: 'usd',
    slot: SLOT,
    market: 'test',
    request: { coinLimit: 3, perPage: 3 },
    pages: [],
    recordCount: 2,
    extractedAt: SLOT,
  };
  return encodeRawObject(manifest, [Buffer.from(JSON.stringify([coin('bitcoin'), coin('ethereum')]))]);
}

class FakeLake implements RawStore {
  readonly bucket = REF.bucket;
  reads = 0;
  createOnly(): never {
    throw new Error('load never writes the lake');
  }
  head(): Promise<RawObjectRef | undefined> {
    return Promise.resolve(REF);
  }
  read(): Promise<Buffer> {
    this.reads += 1;
    return Promise.resolve(rawObject());
  }
}

/**
 * BigQuery's load semantics in memory: the fact is insert-only on its grain, the run record is
 * written with it (the merge), then the checks are recorded on (run id, check name), unless
 * `qualityStepFails` says the quality job fails: the merge has committed by then.
 */
class BigQueryLikeWarehouse implements Warehouse {
  readonly facts = new Set<string>();
  readonly runs = new Map<string, RunRow>();
  readonly checks: QualityCheckRow[] = [];
  qualityStepFails = false;
  calls: string[] = [];

  ensureSchema(): Promise<void> {
    return Promise.resolve();
  }

  loadBatch(batch: StarBatch): Promise<LoadOutcome> {
    this.calls.push('loadBatch');
    let inserted = 0;
    for (const f of batch.facts) {
      const grain = `${f.asset_key}|${f.vs_currency}|${f.slot_ts.toISOString()}`;
      if (!this.facts.has(grain)) inserted += 1;
      this.facts.add(grain);
    }
    if (this.runs.get(batch.runId)?.status !== 'loaded') {
      this.runs.set(batch.runId, loadedRun(batch, inserted));
    }
    if (this.qualityStepFails) {
      return Promise.reject(
        new LoadError('BigQuery job quality_x failed: backendError', {
          code: 'bigquery_backend_error',
          retryable: true,
        }),
      );
    }
    let recorded = false;
    for (const row of checkRows(batch)) {
      if (this.checks.some((c) => c.run_id === row.run_id && c.check_name === row.check_name)) continue;
      this.checks.push(row);
      recorded = true;
    }
    return Promise.resolve({
      factRowsInserted: inserted,
      assetVersionsInserted: 0,
      run: this.runs.get(batch.runId)!,
      qualityChecks: this.checksOf(batch.runId),
      qualityChecksRecorded: recorded,
    });
  }

  recordFailedRun(run: RunRow): Promise<void> {
    if (this.runs.get(run.run_id)?.status !== 'loaded') this.runs.set(run.run_id, run);
    return Promise.resolve();
  }

  getRun(runId: string): Promise<RunRow | undefined> {
    this.calls.push('getRun');
    return Promise.resolve(this.runs.get(runId));
  }

  getQualityChecks(runId: string): Promise<QualityCheckRow[]> {
    this.calls.push('getQualityChecks');
    return Promise.resolve(this.checksOf(runId));
  }

  private checksOf(runId: string): QualityCheckRow[] {
    return this.checks
      .filter((c) => c.run_id === runId)
      .sort((a, b) => a.check_name.localeCompare(b.check_name));
  }
}

function loadedRun(batch: StarBatch, loaded: number): RunRow {
  return {
    run_id: batch.runId,
    source: batch.source,
    vs_currency: batch.vsCurrency,
    slot_ts: batch.slot,
    status: 'loaded',
    raw_object: batch.raw.key,
    raw_generation: batch.raw.generation,
    records_in: batch.counts.recordsIn,
    records_loaded: loaded,
    records_rejected: batch.counts.rejected,
    records_duplicate: batch.counts.duplicates,
    asset_versions_new: 0,
    load_started_at: batch.loadStartedAt,
    load_finished_at: batch.loadStartedAt,
    error_code: null,
    error_message: null,
    updated_at: batch.loadStartedAt,
  };
}

/** Every check of the catalogue passes except record_count (fewer coins than asked for). */
function checkRows(batch: StarBatch): QualityCheckRow[] {
  return QUALITY_CHECKS.map((c) => {
    const failed = c.name === 'record_count' && batch.facts.length < batch.expectedRecords;
    return {
      run_id: batch.runId,
      check_name: c.name,
      severity: c.severity,
      status: failed ? 'fail' : 'pass',
      observed: c.name === 'record_count' ? batch.facts.length : 0,
      expected: c.name === 'record_count' ? batch.expectedRecords : 0,
      message: c.name === 'record_count' ? `${batch.facts.length} of ${batch.expectedRecords}` : 'ok',
      checked_at: batch.loadStartedAt,
    };
  });
}

class RecordingLogger implements Logger {
  entries: { severity: Severity; message: string; fields: LogFields }[] = [];
  log(severity: Severity, message: string, fields: LogFields = {}): void {
    this.entries.push({ severity, message, fields });
  }
  qualityFailures(): string[] {
    return this.entries
      .filter((e) => e.fields.code === QUALITY_CHECK_FAILED)
      .map((e) => String(e.fields.checkName));
  }
}

const clock: Clock = {
  now: () => new Date('2026-11-21T05:01:00.000Z'),
  sleep: () => Promise.resolve(),
};

let lake: FakeLake;
let warehouse: BigQueryLikeWarehouse;
let logger: RecordingLogger;
const deliver = () => runLoad(event, { lake, warehouse, clock, logger });

beforeEach(() => {
  lake = new FakeLake();
  warehouse = new BigQueryLikeWarehouse();
  logger = new RecordingLogger();
});

describe('runLoad: a run counts as loaded only with its quality checks', () => {
  test('a first delivery loads the run, records its checks and reports their failures', async () => {
    const summary = await deliver();

    expect(summary).toMatchObject({ status: 'loaded', factRowsInserted: 2 });
    expect(summary.qualityFailures).toEqual([
      { checkName: 'record_count', severity: 'warning', message: '2 of 3' },
    ]);
    expect(warehouse.checks).toHaveLength(QUALITY_CHECKS.length);
    expect(logger.qualityFailures()).toEqual(['record_count']);
  });

  test('a run loaded without its check rows gets them on redelivery, once, and alerts once', async () => {
    // The merge commits, then the quality step fails: the delivery fails and Pub/Sub redelivers.
    warehouse.qualityStepFails = true;
    await expect(deliver()).rejects.toMatchObject({ code: 'bigquery_backend_error', retryable: true });
    expect(warehouse.runs.get(RUN_ID)?.status).toBe('loaded');
    expect(warehouse.checks).toEqual([]);
    expect(logger.qualityFailures()).toEqual([]);

    warehouse.qualityStepFails = false;
    warehouse.calls = [];
    const summary = await deliver();

    expect(warehouse.calls).toEqual(['getRun', 'getQualityChecks', 'loadBatch']);
    expect(summary).toMatchObject({ status: 'already_loaded', factRowsInserted: 0 });
    expect(warehouse.facts.size).toBe(2);
    expect(warehouse.checks.map((c) => c.check_name)).toEqual(QUALITY_CHECKS.map((c) => c.name));
    expect(summary.qualityFailures).toEqual([
      { checkName: 'record_count', severity: 'warning', message: '2 of 3' },
    ]);
    expect(logger.qualityFailures()).toEqual(['record_count']);
    expect(logger.entries.find((e) => e.fields.missingChecks !== undefined)).toMatchObject({
      severity: 'WARNING',
      fields: { runId: RUN_ID, missingChecks: QUALITY_CHECKS.map((c) => c.name) },
    });

    // Now it is loaded with its checks: a third delivery is the plain fast path.
    warehouse.calls = [];
    expect(await deliver()).toMatchObject({ status: 'already_loaded' });
    expect(warehouse.calls).toEqual(['getRun', 'getQualityChecks']);
    expect(warehouse.checks).toHaveLength(QUALITY_CHECKS.length);
    expect(logger.qualityFailures()).toEqual(['record_count']);
  });

  test('a run loaded with its check rows: a redelivery reads the run and its checks, and nothing else', async () => {
    await deliver();
    const checksBefore = [...warehouse.checks];
    const readsBefore = lake.reads;
    warehouse.calls = [];
    logger.entries = [];

    const summary = await deliver();

    expect(summary).toMatchObject({ status: 'already_loaded', recordsIn: 2, factRowsInserted: 0 });
    expect(summary.qualityFailures).toBeUndefined();
    expect(warehouse.calls).toEqual(['getRun', 'getQualityChecks']);
    expect(lake.reads).toBe(readsBefore);
    expect(warehouse.checks).toEqual(checksBefore);
    expect(logger.entries.map((e) => [e.severity, e.message])).toEqual([
      ['INFO', `run ${RUN_ID} already loaded; nothing to do`],
    ]);
  });

  test('a run whose checks lack one the catalogue added since is applied again to add it', async () => {
    await deliver();
    const dropped = warehouse.checks.findIndex((c) => c.check_name === 'freshness');
    warehouse.checks.splice(dropped, 1);
    warehouse.calls = [];

    await deliver();

    expect(warehouse.calls).toEqual(['getRun', 'getQualityChecks', 'loadBatch']);
    expect(warehouse.checks.map((c) => c.check_name).sort()).toEqual(QUALITY_CHECKS.map((c) => c.name));
  });

  test('a run loaded from another generation of the object is applied again whatever its checks', async () => {
    await deliver();
    warehouse.calls = [];

    await runLoad({ ...event, generation: '1763701200999999' }, { lake, warehouse, clock, logger });

    expect(warehouse.calls).toEqual(['getRun', 'loadBatch']);
  });
});
