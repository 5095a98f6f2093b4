import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Summary } from './stats.js';

/**
 * A figure compared with a baseline measured in the same run. `ratio` is figure / baseline on
 * their medians; for times lower is better, so a target is a maximum ratio (`max`) or a minimum
 * speed-up, baseline / figure (`minSpeedup`). Absolute targets (`maxValue`) need no baseline.
 */
export interface Comparison {
  baseline: string;
  baselineValue: Summary;
  ratio: number | null;
  target?: { maxRatio?: number; minSpeedup?: number };
  met: boolean | null;
}

export interface Figure {
  id: string;
  label: string;
  unit: string;
  value: Summary;
  comparisons: Comparison[];
  absoluteTarget?: { maxValue: number };
  met: boolean | null;
  /** What the figure times, and anything a reader needs to trust it. */
  note: string;
}

export function compare(
  value: Summary,
  baseline: string,
  baselineValue: Summary,
  target?: Comparison['target'],
): Comparison {
  const ratio = value.median !== null && baselineValue.median ? value.median / baselineValue.median : null;
  let met: boolean | null = null;
  if (target && ratio !== null) {
    met =
      (target.maxRatio === undefined || ratio <= target.maxRatio) &&
      (target.minSpeedup === undefined || 1 / ratio >= target.minSpeedup);
  }
  return { baseline, baselineValue, ratio, ...(target ? { target } : {}), met };
}

export function figure(spec: Omit<Figure, 'met' | 'comparisons'> & { comparisons?: Comparison[] }): Figure {
  const comparisons = spec.comparisons ?? [];
  const verdicts = comparisons.map((c) => c.met).filter((m): m is boolean => m !== null);
  if (spec.absoluteTarget) {
    verdicts.push(spec.value.median !== null && spec.value.median <= spec.absoluteTarget.maxValue);
  }
  // No successful repetition means the target is not met, whatever the baseline did.
  if (spec.value.n === 0 && (spec.absoluteTarget || comparisons.some((c) => c.target))) verdicts.push(false);
  return { ...spec, comparisons, met: verdicts.length === 0 ? null : verdicts.every(Boolean) };
}

const num = (v: number | null, digits = 0) => (v === null ? '—' : v.toFixed(digits));
const digitsFor = (v: number | null) => (v !== null && Math.abs(v) < 10 ? 2 : 0);
const triple = (s: Summary) => {
  const d = digitsFor(s.median);
  return `${num(s.min, d)} / ${num(s.median, d)} / ${num(s.max, d)}`;
};
const runs = (s: Summary) => (s.failed ? `${s.n} (+${s.failed} failed)` : String(s.n));

function targetText(c: Comparison): string {
  if (c.target?.maxRatio !== undefined) return `≤ ${c.target.maxRatio}x`;
  if (c.target?.minSpeedup !== undefined) return `≥ ${c.target.minSpeedup}x faster`;
  return '(context)';
}

/** The table as Markdown rows (printed, and pasted into the README's Performance section). */
export function markdownTable(figures: readonly Figure[]): string {
  const lines = [
    '| figure | unit | min / median / max | n | baseline (same run) | baseline min / median / max | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const mark = (m: boolean | null) => (m === null ? '' : m ? 'yes' : '**no**');
  for (const f of figures) {
    const head = `| ${f.label} | ${f.unit} | ${triple(f.value)} | ${runs(f.value)}`;
    if (f.comparisons.length === 0) {
      const t = f.absoluteTarget ? `< ${f.absoluteTarget.maxValue} ${f.unit}` : '';
      lines.push(`${head} | | | | ${t} | ${mark(f.met)} |`);
    }
    for (const c of f.comparisons) {
      const speed =
        c.ratio === null ? '—' : c.ratio >= 0.1 ? `${c.ratio.toFixed(2)}x` : `1/${(1 / c.ratio).toFixed(0)}x`;
      const abs = f.absoluteTarget ? `; < ${f.absoluteTarget.maxValue} ${f.unit}` : '';
      lines.push(
        `${head} | ${c.baseline} | ${triple(c.baselineValue)} | ${speed} | ${targetText(c)}${abs} | ${mark(c.target ? c.met : f.absoluteTarget ? f.met : null)} |`,
      );
    }
  }
  return lines.join('\n');
}

export function writeJson(path: string, body: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
}
