/**
 * Child process of the bench (bench/figures/load-memory.ts): one `load` of a raw object the way the
 * load stage does it (read the lake object's bytes, decode, build the star batch, write it to a
 * fresh DuckDB warehouse file), then prints its peak RSS. `--floor` only opens the warehouse: the
 * memory DuckDB and the code take before any data.
 *
 *   node load-once.mjs <raw object file> <warehouse file> [--floor]
 */
import { readFileSync } from 'node:fs';
import { decodeRawObject } from '../../functions/src/core/raw-object.js';
import { buildStarBatch } from '../../functions/src/transform/star-rows.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';

const [rawPath, warehousePath, flag] = process.argv.slice(2);
const warehouse = await DuckDbWarehouse.open(warehousePath!);
if (flag !== '--floor') {
  const raw = decodeRawObject(readFileSync(rawPath!));
  const batch = buildStarBatch(raw, { bucket: 'bench', key: 'raw/bench.json', generation: '1' }, new Date());
  const outcome = await warehouse.loadBatch(batch);
  if (outcome.factRowsInserted !== batch.facts.length) throw new Error('the load inserted too few rows');
}
await warehouse.close();
// maxRSS is in KiB (the kernel's peak resident set of this process).
console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
