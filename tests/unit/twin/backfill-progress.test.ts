import { Writable } from 'node:stream';
import { createProgress } from '../../../twin/src/backfill/progress.js';
import type { ChunkReport } from '../../../twin/src/backfill/run-backfill.js';

/** The backfill's progress: a bar with an ETA on a terminal, one plain line per chunk otherwise. */
const chunk = (coinId: string): ChunkReport['chunk'] => ({
  chunkId: `${coinId}_usd_daily_x`,
  coinId,
  vsCurrency: 'usd',
  granularity: 'daily',
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-04-01T00:00:00Z'),
});

function terminal() {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(data: Buffer, _encoding, done) {
        text += data.toString();
        done();
      },
    }),
    { isTTY: true, columns: 160, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
  );
  return { stream, text: () => text };
}

test('not a terminal: one line per chunk, failures with their message', () => {
  const lines: string[] = [];
  const progress = createProgress({ json: false, out: (l) => lines.push(l) });
  progress.start(2);
  progress.chunk({ chunk: chunk('bitcoin'), outcome: 'fetched' }, 1, 2);
  progress.chunk(
    {
      chunk: chunk('ethereum'),
      outcome: 'failed',
      error: { code: 'x', message: 'CoinGecko error 10012', retryable: false },
    },
    2,
    2,
  );
  progress.stop();
  expect(lines).toEqual([
    '[1/2] bitcoin usd daily 2026-01-01..2026-03-31: fetched, loading',
    '[2/2] ethereum usd daily 2026-01-01..2026-03-31: FAILED: CoinGecko error 10012',
  ]);
});

test('a terminal: a progress bar with the chunk count and an ETA, no plain lines', () => {
  const lines: string[] = [];
  const tty = terminal();
  const progress = createProgress({ json: false, out: (l) => lines.push(l), stream: tty.stream });
  progress.start(2);
  progress.chunk({ chunk: chunk('bitcoin'), outcome: 'fetched' }, 1, 2);
  progress.stop();
  expect(lines).toEqual([]);
  expect(tty.text()).toMatch(/backfill \[.*\] 50% \| 1\/2 chunks \| ETA \S+ \| bitcoin usd daily/);
});

test('--json: nothing until the summary', () => {
  const lines: string[] = [];
  const progress = createProgress({ json: true, out: (l) => lines.push(l), stream: terminal().stream });
  progress.start(1);
  progress.chunk({ chunk: chunk('bitcoin'), outcome: 'fetched' }, 1, 1);
  progress.stop();
  expect(lines).toEqual([]);
});
