import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/fixtures.js';
import { compare, figure, type Figure } from '../lib/report.js';
import { repeat, timeMs } from '../lib/stats.js';

/** Runs node with `args` to its exit; it counts only when it ended the `expected` way. */
function runToExit(args: string[], expected: { code: number; stderr?: RegExp }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (code === expected.code && (!expected.stderr || expected.stderr.test(stderr))) resolve();
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(0, 300)}`));
    });
  });
}

/** `crypto-pipeline status` on an empty data folder, process start to exit, against bare node. */
export async function cliStartFigure(reps: number): Promise<Figure> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cmp-bench-cli-'));
  try {
    const bin = join(REPO_ROOT, 'bin/crypto-pipeline.js');
    // The CLI's contract for a folder with no warehouse yet: exit 1 and say so. Anything else
    // (a crash, a missing build) is a failed repetition, not a fast one.
    const expected = { code: 1, stderr: /no warehouse at/ };
    const cli = await repeat(reps, () =>
      timeMs(() => runToExit([bin, 'status', '--data-dir', dataDir], expected)),
    );
    const bare = await repeat(reps, () => timeMs(() => runToExit(['-e', ''], { code: 0 })));
    return figure({
      id: 'cli-start',
      label: 'CLI start: status on an empty data folder',
      unit: 'ms',
      value: cli,
      comparisons: [compare(cli, "bare node -e ''", bare)],
      absoluteTarget: { maxValue: 500 },
      note: 'node bin/crypto-pipeline.js status --data-dir <empty folder>, process start to exit',
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
