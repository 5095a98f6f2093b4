/**
 * Where the real CoinGecko responses live: a sibling checkout (`../shared/corpus/coingecko`) or
 * COINGECKO_CORPUS_DIR (resolved from the repository root). Only the corpus suite
 * (`jest --config jest.corpus.config.js`) reads it; the default suite must pass without it.
 *
 * Usage, at the top level of a corpus test file:
 *   requireCorpus();
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CORPUS_DIR = path.resolve(
  REPO_ROOT,
  process.env.COINGECKO_CORPUS_DIR ?? '../shared/corpus/coingecko',
);

/** The daily top-100 /coins/markets snapshots (one file per day, plus one 403 body). */
export const DAILY_DIR = path.join(CORPUS_DIR, 'markets-daily-top100');

/** Fails loudly, never skips, when the corpus is missing: a corpus run without a corpus proves nothing. */
export function requireCorpus(): string {
  if (!existsSync(CORPUS_DIR) || !statSync(CORPUS_DIR).isDirectory()) {
    throw new Error(`the CoinGecko corpus is not at ${CORPUS_DIR}; set COINGECKO_CORPUS_DIR`);
  }
  return CORPUS_DIR;
}
