/**
 * Accuracy metrics of a latency (or energy) predictor on held-out architectures: rank correlations
 * (Spearman ρ with average ranks for ties, Kendall τ-b), the share of predictions within ±10%, RMSE and
 * MAPE. Plain numbers over plain arrays: these summarise predictions already read back from the GPU.
 *
 * Degenerate inputs: a correlation of a constant sequence is NaN (zero variance), as in scipy.
 */
import { WgnasError } from '../gpu/errors.js';

type Vec = ArrayLike<number>;

function checkPair(what: string, pred: Vec, truth: Vec): void {
  if (pred.length !== truth.length) throw new WgnasError(`${what}: ${pred.length} predictions but ${truth.length} true values`);
  if (pred.length === 0) throw new WgnasError(`${what}: no values`);
  for (let i = 0; i < pred.length; i++) {
    if (!Number.isFinite(pred[i]) || !Number.isFinite(truth[i])) {
      throw new WgnasError(`${what}: value ${i} is not finite (prediction ${pred[i]}, truth ${truth[i]})`);
    }
  }
}

/** 1-based ranks; tied values share the average of the ranks they span. */
export function averageRanks(x: Vec): number[] {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Array<number>(x.length);
  for (let s = 0; s < idx.length;) {
    let e = s + 1;
    while (e < idx.length && x[idx[e]] === x[idx[s]]) e++;
    const r = (s + 1 + e) / 2; // mean of ranks s+1 .. e
    for (let k = s; k < e; k++) ranks[idx[k]] = r;
    s = e;
  }
  return ranks;
}

/** Pearson correlation coefficient. */
export function pearson(a: Vec, b: Vec): number {
  checkPair('pearson', a, b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman ρ: Pearson correlation of average ranks (ties handled exactly). */
export function spearman(pred: Vec, truth: Vec): number {
  checkPair('spearman', pred, truth);
  return pearson(averageRanks(pred), averageRanks(truth));
}

/** Σ t(t-1)/2 over runs of equal values in a sorted sequence (tied pairs). */
function tiedPairs(sorted: readonly number[], eq: (i: number, j: number) => boolean = (i, j) => sorted[i] === sorted[j]): number {
  let pairs = 0;
  for (let s = 0; s < sorted.length;) {
    let e = s + 1;
    while (e < sorted.length && eq(s, e)) e++;
    pairs += ((e - s) * (e - s - 1)) / 2;
    s = e;
  }
  return pairs;
}

/** Sorts `a` ascending in place and returns the number of inversions (i < j with a[i] > a[j]). */
function sortCountInversions(a: number[]): number {
  const tmp = new Array<number>(a.length);
  let inv = 0;
  for (let width = 1; width < a.length; width *= 2) {
    for (let lo = 0; lo < a.length; lo += 2 * width) {
      const mid = Math.min(lo + width, a.length);
      const hi = Math.min(lo + 2 * width, a.length);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (a[j] < a[i]) {
          inv += mid - i; // a[j] is smaller than every remaining left element
          tmp[k++] = a[j++];
        } else tmp[k++] = a[i++];
      }
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
      for (let t = lo; t < hi; t++) a[t] = tmp[t];
    }
  }
  return inv;
}

/**
 * Kendall τ-b = (n_c − n_d) / sqrt((n0 − n1)(n0 − n2)), n0 = n(n−1)/2, n1/n2 = pairs tied in pred/truth.
 * O(n log n) (Knight's algorithm: sort by pred then truth, count truth inversions with a merge sort).
 */
export function kendallTauB(pred: Vec, truth: Vec): number {
  checkPair('kendallTauB', pred, truth);
  const n = pred.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pred[a] - pred[b] || truth[a] - truth[b]);
  const xs = order.map((i) => pred[i]);
  const ys = order.map((i) => truth[i]);
  const n1 = tiedPairs(xs);
  const n3 = tiedPairs(xs, (i, j) => xs[i] === xs[j] && ys[i] === ys[j]);
  const discordant = sortCountInversions(ys); // ys is sorted afterwards
  const n2 = tiedPairs(ys);
  const n0 = (n * (n - 1)) / 2;
  return (n0 - n1 - n2 + n3 - 2 * discordant) / Math.sqrt((n0 - n1) * (n0 - n2));
}

/** Share (0..1) of predictions with |pred − truth| <= tol·|truth| (tol 0.1: within ±10%). */
export function withinShare(pred: Vec, truth: Vec, tol = 0.1): number {
  checkPair('withinShare', pred, truth);
  let k = 0;
  for (let i = 0; i < pred.length; i++) if (Math.abs(pred[i] - truth[i]) <= tol * Math.abs(truth[i])) k++;
  return k / pred.length;
}

/** Root mean squared error, in the unit of the values. */
export function rmse(pred: Vec, truth: Vec): number {
  checkPair('rmse', pred, truth);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - truth[i]) ** 2;
  return Math.sqrt(s / pred.length);
}

/** Mean absolute percentage error as a FRACTION (0.05 = 5%); every true value must be non-zero. */
export function mape(pred: Vec, truth: Vec): number {
  checkPair('mape', pred, truth);
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    if (truth[i] === 0) throw new WgnasError(`mape: true value ${i} is 0 (percentage error undefined)`);
    s += Math.abs((pred[i] - truth[i]) / truth[i]);
  }
  return s / pred.length;
}

export interface PredictorMetrics {
  n: number;
  spearman: number;
  kendall: number;
  /** share within ±10% */
  within10: number;
  rmse: number;
  /** fraction, not percent */
  mape: number;
}

/** Every metric at once (the report of a predictor on a test split). */
export function predictorMetrics(pred: Vec, truth: Vec): PredictorMetrics {
  return {
    n: pred.length,
    spearman: spearman(pred, truth),
    kendall: kendallTauB(pred, truth),
    within10: withinShare(pred, truth, 0.1),
    rmse: rmse(pred, truth),
    mape: mape(pred, truth),
  };
}
