import { statSync } from 'node:fs';
import { parseConfig, type PipelineConfig } from '../../../functions/src/config.js';
import type { SourceSpec } from '../market-source.js';
import { UsageError } from './usage-error.js';

/**
 * What a command reads from the environment. Commands that only look at the data folder must not be
 * blocked by settings they never use (a bad CADENCE_MINUTES does not matter to `status`), and the
 * simulator or a replay never talks to CoinGecko, so the plan, key and URL do not apply to them.
 */
export type ConfigScope =
  | { kind: 'data-only' }
  | { kind: 'market-only'; source: SourceSpec }
  | { kind: 'pipeline'; source: SourceSpec };

const DATA_KEYS = ['PIPELINE_DATA_DIR'];
const LIVE_API_KEYS = [
  'COINGECKO_PLAN',
  'COINGECKO_API_KEY',
  'COINGECKO_BASE_URL',
  'COINGECKO_CALLS_PER_MINUTE',
];

/**
 * The twin's configuration: the functions' own config schema with PIPELINE_ENGINE=local, read from
 * the environment, with CLI flags taking precedence.
 */
export function twinConfig(
  env: Record<string, string | undefined>,
  overrides: { dataDir?: string; cadenceMinutes?: number },
  scope: ConfigScope = { kind: 'pipeline', source: { kind: 'live' } },
): PipelineConfig {
  const used = Object.entries(env).filter(([key]) => {
    if (scope.kind === 'data-only') return DATA_KEYS.includes(key);
    if (scope.kind === 'market-only' && DATA_KEYS.includes(key)) return false;
    return scope.source.kind === 'live' || !LIVE_API_KEYS.includes(key);
  });
  const config = parseConfig({
    ...Object.fromEntries(used),
    PIPELINE_ENGINE: 'local',
    ...(overrides.dataDir ? { PIPELINE_DATA_DIR: overrides.dataDir } : {}),
    ...(overrides.cadenceMinutes ? { CADENCE_MINUTES: String(overrides.cadenceMinutes) } : {}),
  });
  if (scope.kind !== 'market-only') assertDataDir(config.dataDir);
  return config;
}

/** A data folder that is a file would fail later with a bare EEXIST or "run the pipeline first". */
function assertDataDir(dataDir: string): void {
  const stat = statSync(dataDir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) {
    throw new UsageError(
      `the data folder ${dataDir} (--data-dir or PIPELINE_DATA_DIR) is a file, not a directory`,
    );
  }
}
