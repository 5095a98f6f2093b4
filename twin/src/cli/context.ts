import { parseConfig, type PipelineConfig } from '../../../functions/src/config.js';

/**
 * The twin's configuration: the functions' own config schema with PIPELINE_ENGINE=local, read from
 * the environment, with CLI flags taking precedence.
 */
export function twinConfig(
  env: Record<string, string | undefined>,
  overrides: { dataDir?: string; cadenceMinutes?: number },
): PipelineConfig {
  return parseConfig({
    ...env,
    PIPELINE_ENGINE: 'local',
    ...(overrides.dataDir ? { PIPELINE_DATA_DIR: overrides.dataDir } : {}),
    ...(overrides.cadenceMinutes ? { CADENCE_MINUTES: String(overrides.cadenceMinutes) } : {}),
  });
}
