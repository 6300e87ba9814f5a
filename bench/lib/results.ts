// The run's record: where it ran (commit, dirty tree, node, CPU), its rows, the table printed at
// the end, and the JSON file written to bench/results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { QUIET_CPU, type Row } from './bench.js';
import { REPO_ROOT, RESULTS_DIR } from './paths.js';

export interface Environment {
  date: string;
  commit: string;
  dirty: boolean;
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

export function environment(): Environment {
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain']) !== '',
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  };
}

export interface RunRecord {
  mode: 'full' | 'smoke';
  environment: Environment;
  rows: Row[];
  errors: { benchmark: string; error: string }[];
}

/** Writes bench/results/<timestamp>-<commit>[-smoke].json and returns its path. */
export function writeRecord(record: RunRecord): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = record.environment.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const suffix = record.mode === 'smoke' ? '-smoke' : '';
  const path = join(RESULTS_DIR, `${stamp}-${record.environment.commit}${suffix}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

function figure(value: number, unit: string): string {
  if (unit === 'x') return value.toFixed(2);
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits })} ${unit}`;
}

/** The rows as an aligned text table (also valid Markdown). */
export function formatTable(rows: Row[]): string {
  const header = ['benchmark', 'case', 'pier', 'baseline', 'result', 'target', ''];
  const lines = rows.map((r) =>
    r.unmeasured !== undefined
      ? [r.benchmark, r.case, '-', `not measured: ${r.unmeasured}`, '-', '-', 'not measured']
      : [
          r.benchmark,
          r.case,
          figure(r.pier.value, r.pier.unit),
          r.baseline ? `${figure(r.baseline.value, r.baseline.unit)} (${r.baseline.name})` : '-',
          r.result.unit === 'x'
            ? `${figure(r.result.value, 'x')} x`
            : figure(r.result.value, r.result.unit),
          r.target
            ? `${r.target.op} ${figure(r.target.value, r.result.unit === 'x' ? 'x' : r.result.unit)}`
            : '-',
          r.target === null ? 'reported' : r.met ? 'met' : 'MISSED',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

/** Rows measured while other processes used more than `threshold` cores: their ratios are suspect. */
export function interferenceWarnings(rows: Row[], threshold = QUIET_CPU): string[] {
  return rows
    .filter((r) => r.otherCpu !== null && Number.isFinite(r.otherCpu) && r.otherCpu > threshold)
    .map(
      (r) =>
        `warning: other processes used ${r.otherCpu!.toFixed(2)} cores on average while ` +
        `${r.benchmark} / ${r.case} was measured; rerun on an idle machine to trust it.`,
    );
}
