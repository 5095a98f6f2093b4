import type { PipelineConfig } from '../../functions/src/config.js';
import type { Logger } from '../../functions/src/core/logger.js';
import { systemClock, type Clock, type MarketSource } from '../../functions/src/core/ports.js';
import { runExtract, type ExtractSummary } from '../../functions/src/extract/run-extract.js';
import { handleLoadEvent } from '../../functions/src/load/cloudevent-handler.js';
import type { HistoryLoadSummary } from '../../functions/src/load/run-history-load.js';
import type { LoadSummary } from '../../functions/src/load/run-load.js';
import { DuckDbWarehouse } from './adapters/duckdb-warehouse.js';
import { FolderLake } from './adapters/folder-lake.js';
import { LOCAL_SUBSCRIPTION, LocalPubSub } from './adapters/local-pubsub.js';
import { pushToCloudEventData } from './adapters/push-to-cloudevent.js';
import { SnapshotPublisher } from './reading/snapshot-publisher.js';
import { twinPaths } from './twin-paths.js';

export interface DeliveryPolicy {
  maxDeliveryAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

/** The twin's retry policy: Pub/Sub's shape (5 attempts, exponential), scaled down for a laptop. */
export const DEFAULT_DELIVERY: DeliveryPolicy = {
  maxDeliveryAttempts: 5,
  minBackoffMs: 500,
  maxBackoffMs: 10_000,
};

export interface TwinOptions {
  config: PipelineConfig;
  /** Needed only to extract; `status`-like uses (redrive) open the twin without one. */
  market?: MarketSource;
  logger: Logger;
  clock?: Clock;
  delivery?: Partial<DeliveryPolicy>;
  /**
   * Keep a readable copy of the warehouse for other processes while this one holds it (the CLI's
   * pipeline commands do; tests that never read from another process need not pay for it).
   */
  publishSnapshots?: boolean;
}

/** Where the twin keeps things below the data directory. */
export { twinPaths } from './twin-paths.js';

/**
 * The local twin: the same extract and load code as the cloud functions, wired to embedded engines
 * (a lake folder, an in-process Pub/Sub with push delivery and dead letters, a DuckDB warehouse).
 */
export class Twin {
  /** Outcomes of deliveries to `load`, in completion order (for summaries and tests). */
  readonly loads: LoadSummary[] = [];
  /** Outcomes of backfill chunk deliveries, in completion order. */
  readonly historyLoads: HistoryLoadSummary[] = [];

  private constructor(
    readonly config: PipelineConfig,
    readonly lake: FolderLake,
    readonly bus: LocalPubSub,
    readonly warehouse: DuckDbWarehouse,
    private readonly market: MarketSource | undefined,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly snapshots: SnapshotPublisher | undefined,
  ) {}

  static async open(options: TwinOptions): Promise<Twin> {
    const { config, logger } = options;
    const clock = options.clock ?? systemClock;
    const paths = twinPaths(config.dataDir);
    const warehouse = await DuckDbWarehouse.open(paths.warehouse);
    const lake = new FolderLake(paths.lake);
    const bus = new LocalPubSub({
      dir: paths.pubsub,
      subscription: LOCAL_SUBSCRIPTION,
      clock,
      logger,
      ...DEFAULT_DELIVERY,
      ...options.delivery,
    });
    const snapshots = options.publishSnapshots
      ? new SnapshotPublisher(warehouse, paths.snapshot, logger)
      : undefined;
    const twin = new Twin(config, lake, bus, warehouse, options.market, logger, clock, snapshots);
    snapshots?.changed();
    bus.subscribe(async (envelope) => {
      const summary = await handleLoadEvent(pushToCloudEventData(envelope), {
        lake,
        warehouse,
        clock,
        logger,
      });
      if (summary && 'chunkId' in summary) twin.historyLoads.push(summary);
      else if (summary) twin.loads.push(summary);
      snapshots?.changed();
    });
    const recovered = await bus.recover();
    if (recovered > 0)
      logger.log('INFO', `redelivering ${recovered} unacknowledged event(s) from a previous run`);
    return twin;
  }

  /**
   * One extract run for the slot containing `time` in one quote currency (default: the first
   * configured); the load follows through the event bus.
   */
  extract(time: Date, vsCurrency: string = this.config.vsCurrency): Promise<ExtractSummary> {
    const { coinLimit, perPage, cadenceMinutes } = this.config;
    if (!this.market) throw new Error('this twin was opened without a market source');
    return runExtract(
      time,
      { vsCurrency, coinLimit, perPage, cadenceMinutes, secrets: [this.config.coingecko.apiKey] },
      { market: this.market, lake: this.lake, publisher: this.bus, clock: this.clock, logger: this.logger },
    );
  }

  /** Waits until every published event has been loaded or dead-lettered. */
  settle(): Promise<void> {
    return this.bus.drain();
  }

  async close(): Promise<void> {
    await this.bus.close();
    await this.snapshots?.flush();
    await this.warehouse.close();
  }
}
