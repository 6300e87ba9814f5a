// What a benchmark is: a name and a function that measures pier against a baseline in the same
// run and returns rows. A row's result is a ratio (pier / baseline) or, where there is no
// baseline to divide by (memory), a quantity of pier's; either way it has a target to compare.

export interface Quantity {
  value: number;
  unit: string;
}

export interface Target {
  op: '>=' | '<';
  value: number;
}

export interface Row {
  benchmark: string;
  case: string;
  pier: Quantity;
  /** What pier is compared with, measured the same way in the same run (null: none). */
  baseline: { name: string; value: number; unit: string } | null;
  /** The figure the target applies to: pier / baseline as `x`, or a quantity of pier's own. */
  result: Quantity;
  /** null: reported, with no target. */
  target: Target | null;
  met: boolean;
  /**
   * CPU (in cores) that processes outside the benchmark used while it measured, or null if
   * unknown. Other work on the machine skews a ratio: the run warns when this is large.
   */
  otherCpu: number | null;
  /** Supporting numbers (latency percentiles, CPU use, sizes) for the JSON file. */
  details: Record<string, number | string | number[]>;
  /** Why this row could not be measured in this run (its figures are then NaN). */
  unmeasured?: string;
}

export interface BenchContext {
  smoke: boolean;
  /** A fresh folder for this benchmark, removed afterwards. */
  tmp: string;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

/** Other processes using more CPU than this (in cores) during a measurement make it suspect. */
export const QUIET_CPU = 0.2;

export function meets(value: number, target: Target): boolean {
  return target.op === '>=' ? value >= target.value : value < target.value;
}

/**
 * A row that this run could not measure (a baseline that is not installed, say), printed with
 * its reason so that a missing comparison is never mistaken for one that was left out.
 */
export function unmeasuredRow(benchmark: string, kase: string, reason: string): Row {
  return {
    benchmark,
    case: kase,
    pier: { value: NaN, unit: '' },
    baseline: null,
    result: { value: NaN, unit: '' },
    target: null,
    met: true,
    otherCpu: null,
    details: {},
    unmeasured: reason,
  };
}

/** A row comparing pier with a baseline measured in the same unit (higher is better). */
export function ratioRow(
  benchmark: string,
  kase: string,
  pier: Quantity,
  baseline: { name: string; value: number },
  target: Target | null,
  otherCpu: number | null,
  details: Row['details'] = {},
): Row {
  const ratio = pier.value / baseline.value;
  return {
    benchmark,
    case: kase,
    pier,
    baseline: { ...baseline, unit: pier.unit },
    result: { value: ratio, unit: 'x' },
    target,
    met: target === null || meets(ratio, target),
    otherCpu,
    details,
  };
}
