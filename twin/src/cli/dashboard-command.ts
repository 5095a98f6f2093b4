import type { PipelineConfig } from '../../../functions/src/config.js';
import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';
import { openWarehouseSource, warehouseFileReader } from '../dashboard/data-source.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.js';

/** Serves the dashboard from the warehouse this process writes (`start`), and says where. */
export async function serveLiveDashboard(
  warehouse: Pick<DuckDbWarehouse, 'query'>,
  options: { port: number; vsCurrency: string; out: (line: string) => void },
): Promise<DashboardServer> {
  const server = await startDashboardServer({
    source: openWarehouseSource(warehouse),
    port: options.port,
    vsCurrency: options.vsCurrency,
  });
  options.out(`dashboard: ${server.url} (charts refresh as slots arrive)`);
  return server;
}

export interface DashboardCommandOptions {
  config: PipelineConfig;
  port: number;
  out: (line: string) => void;
  /** Stops the server (Ctrl-C). */
  signal: AbortSignal;
}

/**
 * `crypto-pipeline dashboard`: serves the local dashboard on 127.0.0.1 from the warehouse file in
 * the data folder until stopped, printing the URL (with --port 0, the free port picked).
 */
export async function dashboardCommand(options: DashboardCommandOptions): Promise<number> {
  const { config, out } = options;
  const server = await startDashboardServer({
    source: warehouseFileReader(config.dataDir),
    port: options.port,
    vsCurrency: config.vsCurrency,
  });
  try {
    out(`dashboard: ${server.url} (data in ${config.dataDir}; Ctrl-C to stop)`);
    if (!options.signal.aborted)
      await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve()));
    out('stopped');
    return 0;
  } finally {
    await server.close();
  }
}
