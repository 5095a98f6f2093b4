import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type PipelineConfig } from '../../functions/src/config.js';
import type { Logger, Severity } from '../../functions/src/core/logger.js';
import { openMarket, type OpenMarket, type SourceSpec } from '../../twin/src/market-source.js';
import { Twin, type DeliveryPolicy } from '../../twin/src/twin.js';

/** A logger that keeps what it was told, for asserting on warnings and errors. */
export function memoryLogger(): Logger & { lines: { severity: Severity; message: string }[] } {
  const lines: { severity: Severity; message: string }[] = [];
  return { lines, log: (severity, message) => lines.push({ severity, message }) };
}

export function tempDir(prefix = 'cmp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): PipelineConfig {
  return parseConfig({
    PIPELINE_ENGINE: 'local',
    PIPELINE_DATA_DIR: dataDir,
    COIN_LIMIT: '120',
    PER_PAGE: '50',
    ...env,
  });
}

/** Fast delivery retries so dead-letter tests take milliseconds. */
export const FAST_DELIVERY: DeliveryPolicy = { maxDeliveryAttempts: 5, minBackoffMs: 1, maxBackoffMs: 5 };

export interface Harness {
  dir: string;
  config: PipelineConfig;
  market: OpenMarket;
  twin: Twin;
  logger: ReturnType<typeof memoryLogger>;
  count(sql: string): Promise<number>;
  /** Re-opens the twin on the same data folder (a process restart). */
  restart(): Promise<Twin>;
  close(): Promise<void>;
}

/** A twin on a fresh temp folder with a local market source (the simulator by default). */
export async function openHarness(
  options: { source?: SourceSpec; env?: Record<string, string>; delivery?: Partial<DeliveryPolicy> } = {},
): Promise<Harness> {
  const dir = tempDir();
  const config = testConfig(dir, options.env);
  const logger = memoryLogger();
  // Millisecond backoff: fault tests exercise the retry logic, not the wall clock.
  const market = await openMarket(
    options.source ?? { kind: 'simulator' },
    { ...config.coingecko, retryBudgetMs: 5_000 },
    { backoff: { baseMs: 2, capMs: 10 } },
  );
  const open = () =>
    Twin.open({ config, market: market.source, logger, delivery: { ...FAST_DELIVERY, ...options.delivery } });
  const h: Harness = {
    dir,
    config,
    market,
    twin: await open(),
    logger,
    async count(sql) {
      const [row] = await h.twin.warehouse.query(sql);
      return Number(Object.values(row!)[0]);
    },
    async restart() {
      await h.twin.close();
      h.twin = await open();
      return h.twin;
    },
    async close() {
      await h.twin.close();
      await market.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
