import { join } from 'node:path';

/**
 * Where the twin keeps its data below the data folder. Its own module so that readers (status,
 * query) find the files without loading the pipeline.
 */
export const twinPaths = (dataDir: string) => ({
  lake: join(dataDir, 'lake'),
  pubsub: join(dataDir, 'pubsub'),
  warehouse: join(dataDir, 'warehouse.duckdb'),
  /** The copy readers open while a pipeline process holds the warehouse (reading/). */
  snapshot: join(dataDir, 'warehouse.snapshot.duckdb'),
});
