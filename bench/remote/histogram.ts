/**
 * A fixed-size latency histogram in the spirit of HdrHistogram: values are nanoseconds, recorded with a relative
 * error below 1/128 (0.8 %), from 1 ns to 2^31 ns (2.1 s; larger values are clamped). Recording is allocation-free,
 * so the harness adds the same tiny cost to every system.
 */

/** log2 of the sub-buckets per power of two: 7 → 128 linear steps between 2^k and 2^(k+1). */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
const MAX_VALUE = 0x7fff_ffff;
/** Values below 2·SUB_COUNT get one bucket each; above, each power of two gets SUB_COUNT buckets. */
const BUCKETS = ((31 - SUB_BITS) << SUB_BITS) + 2 * SUB_COUNT;

function indexOf(value: number): number {
  if (value < 2 * SUB_COUNT) return value;
  const shift = 31 - Math.clz32(value) - SUB_BITS; // value >>> shift lies in [SUB_COUNT, 2·SUB_COUNT)
  return (shift << SUB_BITS) + (value >>> shift);
}

/** The middle of the values that land in bucket `index`. */
function bucketValue(index: number): number {
  if (index < 2 * SUB_COUNT) return index;
  const shift = (index >>> SUB_BITS) - 1;
  const mantissa = index - (shift << SUB_BITS);
  return mantissa * 2 ** shift + (2 ** shift - 1) / 2;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;

  /** Records one latency given in milliseconds (as measured with `performance.now()`). */
  recordMs(ms: number): void {
    let ns = Math.round(ms * 1e6);
    if (ns < 0) ns = 0;
    else if (ns > MAX_VALUE) ns = MAX_VALUE;
    this.counts[indexOf(ns)]!++;
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The value at quantile `q` (0..1) in microseconds; NaN when empty. */
  quantileUs(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return bucketValue(i) / 1000;
    }
    return bucketValue(BUCKETS - 1) / 1000;
  }
}
