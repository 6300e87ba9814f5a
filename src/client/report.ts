// How the client tells what it does: a Reporter receives events; the text reporter prints plain
// lines (CI logs, pipes) or, on a terminal, progress bars drawn with cli-progress.
import type cliProgress from 'cli-progress';
import { hashLines, type FileHashes } from './hashes.js';
import type { RetryNotice } from './requests.js';

export type FileOutcome =
  | { status: 'uploaded'; seconds: number }
  | { status: 'skipped'; reason: string }
  | { status: 'would-upload' }
  | { status: 'failed'; reason: string };

export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  /** Detail shown with --verbose. */
  debug(line: string): void;
  /** Each file's digests, once it is checked. */
  hashes(filename: string, hashes: FileHashes): void;
  start(filename: string, bytes: number): void;
  progress(filename: string, sent: number, total: number): void;
  end(filename: string, outcome: FileOutcome): void;
  retry(notice: RetryNotice): void;
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  hashes: () => undefined,
  start: () => undefined,
  progress: () => undefined,
  end: () => undefined,
  retry: () => undefined,
};

/** `12.3 kB`, `4.5 MB` (decimal units, as pip and twine print them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = '';
  for (const u of units) {
    value /= 1000;
    unit = u;
    if (value < 1000) break;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

/** `3 s`, `2 min 05 s`, `1 h 02 min`: a duration for a person. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Speed and time left of a transfer from its average since it started: `12 MB/s, 3 s left`;
 * `…` until enough time has passed for an average to mean something.
 */
export function describeRate(sent: number, total: number, elapsedMs: number): string {
  if (elapsedMs < 200 || sent <= 0) return '…';
  const perSecond = (sent / elapsedMs) * 1000;
  const left = Math.max(0, total - sent) / perSecond;
  return `${formatBytes(Math.round(perSecond))}/s, ${formatDuration(left)} left`;
}

export function describeOutcome(filename: string, outcome: FileOutcome): string {
  switch (outcome.status) {
    case 'uploaded':
      return `Uploaded ${filename} in ${outcome.seconds.toFixed(1)} s`;
    case 'skipped':
      return `Skipped ${filename}: ${outcome.reason}`;
    case 'would-upload':
      return `Would upload ${filename} (dry run)`;
    case 'failed':
      return `Failed ${filename}: ${outcome.reason}`;
  }
}

export interface TextReporterOptions {
  /** Where lines go. */
  write(line: string): void;
  verbose?: boolean;
  printHash?: boolean;
  /** Draw progress bars on this terminal stream instead of printing progress lines. */
  terminal?: NodeJS.WriteStream;
  /** cli-progress, loaded only when there is a terminal to draw on (see `loadProgressBars`). */
  bars?: typeof cliProgress;
  /** Milliseconds (default Date.now), for the speed and time left. */
  now?: () => number;
}

/** cli-progress, imported when needed: plain output (CI logs) never loads it. */
export async function loadProgressBars(): Promise<typeof cliProgress> {
  return (await import('cli-progress')).default;
}

/** Plain lines, or progress bars on a terminal (one per upload in flight). */
export function textReporter(options: TextReporterOptions): Reporter {
  const { write } = options;
  let multi: cliProgress.MultiBar | null = null;
  const bars = new Map<string, cliProgress.SingleBar>();
  // While bars are drawn, lines go above them (cli-progress redraws the bars below).
  const line = (text: string) => {
    if (multi) multi.log(`${text}\n`);
    else write(text);
  };
  const endBar = (filename: string) => {
    const bar = bars.get(filename);
    if (!bar || !multi) return;
    bars.delete(filename);
    multi.remove(bar);
    if (bars.size === 0) {
      multi.stop();
      multi = null;
    }
  };
  const marks = new Map<string, number>();
  const now = options.now ?? Date.now;
  // When each file's current attempt started.
  const started = new Map<string, number>();
  return {
    info: (text) => line(text),
    warn: (text) => line(`warning: ${text}`),
    debug: (text) => {
      if (options.verbose) line(text);
    },
    hashes: (filename, hashes) => {
      if (options.printHash) for (const l of hashLines(filename, hashes)) line(l);
    },
    start: (filename, bytes) => {
      started.set(filename, now());
      if (options.terminal && options.bars) {
        endBar(filename); // a retry starts the file's bar again
        const cliProgress = options.bars;
        multi ??= new cliProgress.MultiBar(
          {
            stream: options.terminal,
            format: '{filename} [{bar}] {percentage}% | {sent} / {size} | {rate}',
            hideCursor: true,
            clearOnComplete: true,
            barsize: 30,
          },
          cliProgress.Presets.shades_classic,
        );
        bars.set(
          filename,
          multi.create(bytes, 0, {
            filename,
            sent: formatBytes(0),
            size: formatBytes(bytes),
            rate: '…',
          }),
        );
      } else {
        marks.set(filename, 0);
        write(`Uploading ${filename} (${formatBytes(bytes)})`);
      }
    },
    progress: (filename, sent, total) => {
      const bar = bars.get(filename);
      const rate = () => describeRate(sent, total, now() - (started.get(filename) ?? now()));
      if (bar) {
        bar.update(sent, { sent: formatBytes(sent), rate: rate() });
        return;
      }
      // Plain output: a line at each quarter of a large file, none for small ones.
      if (total < 4 * 1024 * 1024) return;
      const quarter = Math.floor((sent / total) * 4);
      if (quarter > (marks.get(filename) ?? 0) && quarter < 4) {
        marks.set(filename, quarter);
        write(`  ${quarter * 25}% of ${filename} sent (${rate()})`);
      }
    },
    end: (filename, outcome) => {
      endBar(filename);
      started.delete(filename);
      line(describeOutcome(filename, outcome));
    },
    retry: (n) =>
      line(
        `warning: ${n.what}: ${n.reason}; attempt ${n.attempt + 1} of ${n.of} in ${(n.delayMs / 1000).toFixed(1)} s`,
      ),
  };
}
