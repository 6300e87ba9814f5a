// Descriptions as pages show them, rendered once and kept, with a bound on size and on time.
// Rendering Markdown or reStructuredText costs about a second per MiB and blocks whatever thread
// runs it, so it runs in a worker thread (description-worker.ts), one description at a time, and
// its result is kept in memory keyed by the format and the description's SHA-256: every later
// view of the same description costs a hash and a lookup. A description larger than the bound
// is never rendered: it is shown as escaped plain text, cut at the bound, with a note; a render
// that takes longer than the time bound is stopped (the worker is ended) and the description is
// shown as plain text, and that is kept too, as is reStructuredText that cannot be rendered
// (markup.ts). Plain text is escaped as it is (linear, cheap), cut at the same bound.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { html, type SafeHtml } from '../html.js';
import {
  NO_DESCRIPTION,
  descriptionFormat,
  isEmptyDescription,
  preformatted,
  sanitizerOutput,
  type DescriptionFormat,
} from './markdown.js';
import { isRenderedFormat, unrenderableRst, type RenderedFormat } from './markup.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface DescriptionLimits {
  /** Longest description rendered or shown whole, in UTF-8 bytes; a longer one is cut. */
  maxBytes: number;
  /** Longest a render may take; then it is stopped and plain text is shown. */
  timeoutMs: number;
  /** Rendered HTML kept, in bytes; the least recently shown goes first. */
  cacheBytes: number;
  /** Renders waiting for the worker; a description past them is shown as plain text for now. */
  maxQueue: number;
}

export const DESCRIPTION_LIMITS: DescriptionLimits = {
  maxBytes: 1 * MiB,
  timeoutMs: 3_000,
  cacheBytes: 64 * MiB,
  maxQueue: 16,
};

/** What showing a description takes: decided from the text, its type and the bound alone. */
export type DescriptionPlan =
  | { kind: 'empty' }
  | { kind: 'render'; text: string; format: RenderedFormat }
  | { kind: 'preformatted'; text: string; format: DescriptionFormat }
  | { kind: 'too-large'; text: string; format: DescriptionFormat; bytes: number };

export function planDescription(
  text: string | null | undefined,
  contentType: string | null | undefined,
  maxBytes: number,
): DescriptionPlan {
  if (isEmptyDescription(text)) return { kind: 'empty' };
  const format = descriptionFormat(contentType);
  // A UTF-8 byte is at most one UTF-16 unit: a text of at most maxBytes units may still be over.
  const bytes = text.length > maxBytes ? text.length : Buffer.byteLength(text);
  if (bytes > maxBytes) return { kind: 'too-large', text, format, bytes };
  if (isRenderedFormat(format)) return { kind: 'render', text, format };
  return { kind: 'preformatted', text, format };
}

function formatBytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(1).replace(/\.0$/, '')} MiB` : `${Math.ceil(n / KiB)} KiB`;
}

/** The start of a text, at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text.slice(0, maxBytes), 'utf8');
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back to the start of a character
  return bytes.subarray(0, end).toString('utf8');
}

/** A description too large to render: its start as plain text, and a note saying so. */
export function tooLargeDescription(
  plan: Extract<DescriptionPlan, { kind: 'too-large' }>,
  maxBytes: number,
): SafeHtml {
  return html`<p class="muted description-note">
      This description is ${formatBytes(plan.bytes)}, more than the ${formatBytes(maxBytes)} this
      index renders: its first ${formatBytes(maxBytes)} are shown as plain text.
    </p>
    <pre class="description plain">${cutToBytes(plan.text, maxBytes)}</pre>`;
}

/** A description whose render took too long (or failed): shown as plain text. */
export function unrenderedDescription(text: string, timeoutMs: number): SafeHtml {
  return html`<p class="muted description-note">
      This description took longer than ${timeoutMs / 1000} s to render: it is shown as plain text.
    </p>
    <pre class="description plain">${text}</pre>`;
}

interface Job {
  id: number;
  text: string;
  format: RenderedFormat;
  resolve: (html: SafeHtml) => void;
}

export class DescriptionRenderer {
  private readonly cache = new Map<string, SafeHtml>();
  private cachedBytes = 0;
  private readonly pending = new Map<string, Promise<SafeHtml>>();
  private readonly queue: Job[] = [];
  private running: { job: Job; timer: NodeJS.Timeout } | null = null;
  private worker: Worker | null = null;
  private workerReady = false;
  private nextId = 1;
  private closed = false;

  constructor(readonly limits: DescriptionLimits = DESCRIPTION_LIMITS) {}

  /** The description as a page shows it. Never blocks the event loop on a render. */
  async render(
    text: string | null | undefined,
    contentType: string | null | undefined,
  ): Promise<SafeHtml> {
    const plan = planDescription(text, contentType, this.limits.maxBytes);
    switch (plan.kind) {
      case 'empty':
        return NO_DESCRIPTION;
      case 'too-large':
        return tooLargeDescription(plan, this.limits.maxBytes);
      case 'preformatted':
        return preformatted(plan.text, plan.format);
      case 'render':
        return this.rendered(plan.text, plan.format);
    }
  }

  private rendered(text: string, format: RenderedFormat): Promise<SafeHtml> {
    const key = `${format}:${createHash('sha256').update(text).digest('base64')}`;
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently shown last: the Map's order is the eviction order.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return Promise.resolve(cached);
    }
    const pending = this.pending.get(key);
    if (pending) return pending;
    if (this.closed || this.queue.length >= this.limits.maxQueue)
      return Promise.resolve(unrenderedDescription(text, this.limits.timeoutMs));
    const promise = new Promise<SafeHtml>((resolve) => {
      this.queue.push({ id: this.nextId++, text, format, resolve });
    }).then((result) => {
      this.pending.delete(key);
      this.keep(key, result);
      return result;
    });
    this.pending.set(key, promise);
    this.startNext();
    return promise;
  }

  private keep(key: string, result: SafeHtml): void {
    const size = result.value.length;
    if (size > this.limits.cacheBytes) return;
    this.cache.set(key, result);
    this.cachedBytes += size;
    for (const [oldest, value] of this.cache) {
      if (this.cachedBytes <= this.limits.cacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= value.value.length;
    }
  }

  private startNext(): void {
    if (this.running || this.closed) return;
    const worker = this.readyWorker();
    if (!worker) return; // started; the queue moves on once it is ready
    const job = this.queue.shift();
    if (!job) return;
    // The bound counts from here: a worker is loaded and warm before it takes a description.
    const timer = setTimeout(() => {
      // Too long: the worker is ended mid-render, and the next description gets a new one.
      this.stopWorker();
      this.finish(job, this.unrendered(job));
    }, this.limits.timeoutMs);
    this.running = { job, timer };
    worker.postMessage({ id: job.id, text: job.text, format: job.format });
  }

  private finish(job: Job, result: SafeHtml): void {
    if (this.running?.job !== job) return;
    clearTimeout(this.running.timer);
    this.running = null;
    job.resolve(result);
    this.startNext();
  }

  /** The worker when it is ready for a description; else null, starting one if there is none. */
  private readyWorker(): Worker | null {
    if (this.worker) return this.workerReady ? this.worker : null;
    const worker = new Worker(new URL('./description-worker.js', import.meta.url));
    worker.unref();
    this.worker = worker;
    this.workerReady = false;
    type Answer = { ready?: true; id?: number; html?: string; refused?: string; error?: string };
    worker.on('message', (m: Answer) => {
      if (this.worker !== worker) return;
      if (m.ready) {
        this.workerReady = true;
        this.startNext();
        return;
      }
      const job = this.running?.job;
      if (!job || job.id !== m.id) return;
      // The worker's markup is renderMarkup's, the sanitizer's output.
      if (m.html !== undefined) this.finish(job, sanitizerOutput(m.html));
      else if (m.refused !== undefined) this.finish(job, unrenderableRst(job.text, m.refused));
      else this.finish(job, this.unrendered(job));
    });
    const lost = () => {
      if (this.worker !== worker) return;
      this.worker = null;
      const running = this.running?.job;
      if (running) return this.finish(running, this.unrendered(running));
      // A worker that never became ready: the first description waiting is shown as plain text.
      const waiting = this.queue.shift();
      if (waiting) {
        waiting.resolve(this.unrendered(waiting));
        this.startNext();
      }
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return null;
  }

  private unrendered(job: Job): SafeHtml {
    return unrenderedDescription(job.text, this.limits.timeoutMs);
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate();
  }

  /** Ends the worker; descriptions still waiting are shown as plain text. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running?.job;
    if (running) this.finish(running, this.unrendered(running));
    for (const job of this.queue.splice(0)) job.resolve(this.unrendered(job));
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
