// The one parser for numbers on the command line (`--limit`, `--port`, ids): a whole number in
// decimal digits within the option's bounds, or a usage error naming the option, before any
// database or network is touched. `Number('abc')` must never reach a query.
import { InvalidArgumentError } from 'commander';

export interface WholeNumberBounds {
  /** The smallest accepted value (default 0). */
  min?: number;
  /** The largest accepted value (default Number.MAX_SAFE_INTEGER). */
  max?: number;
}

/** The number `text` spells, or the reason it is not an acceptable one (a pure rule). */
export function readWholeNumber(
  text: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: WholeNumberBounds = {},
): { ok: true; value: number } | { ok: false; reason: string } {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(value) && value >= min && value <= max) return { ok: true, value };
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return { ok: false, reason: `expected a whole number ${range}` };
}

/**
 * A commander argument parser for `.option(flags, description, wholeNumber({...}))` or
 * `.argument(name, description, wholeNumber({...}))`: commander turns the refusal into
 * `error: option '--limit <n>' argument 'abc' is invalid. expected a whole number …`.
 */
export function wholeNumber(bounds: WholeNumberBounds = {}): (text: string) => number {
  return (text: string) => {
    const read = readWholeNumber(text, bounds);
    if (!read.ok) throw new InvalidArgumentError(read.reason);
    return read.value;
  };
}
