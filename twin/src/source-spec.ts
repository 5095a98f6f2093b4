import type { FaultPlan } from './market/simulator-responder.js';

/**
 * Where market data comes from: the real API, the built-in simulator, or saved responses. Kept
 * apart from market-source.ts so that parsing `--source` loads no HTTP client or simulator.
 */
export type SourceSpec =
  | { kind: 'live' }
  | { kind: 'simulator'; seed?: number; faults?: FaultPlan }
  | { kind: 'replay'; dir: string };

export function parseSourceSpec(text: string): SourceSpec {
  if (text === 'live' || text === 'simulator') return { kind: text };
  if (text.startsWith('replay:') && text.length > 'replay:'.length)
    return { kind: 'replay', dir: text.slice(7) };
  throw new Error(`--source must be live, simulator or replay:DIR, got ${JSON.stringify(text)}`);
}
