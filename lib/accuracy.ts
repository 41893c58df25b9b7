/**
 * How many images each accuracy of a round counts, and so its 95% interval. The engine
 * (experiment.evaluation_sizes) measures standard and adversarial accuracy on the SAME
 * first min(data.testSize, verification.attackSamples) test images when the attack runs,
 * else on the first data.testSize; verified accuracy counts the round's verification
 * samples (`samples`, reported with the round). Sizes of null mean "the whole test set".
 */
import type { RunConfig } from "./protocol";
import { type Interval, wilson } from "./stats";

/** Test-set sizes of each dataset (engine/certprune/data/*.py). */
export const TEST_SET_SIZES: Record<RunConfig["data"]["dataset"], number> = {
  synthetic: 500,
  "fashion-mnist": 10_000,
  cifar10: 10_000,
  svhn: 26_032,
  imagenet64: 50_000,
};

/** Images behind standard and adversarial accuracy (null: unknown, e.g. an uploaded model). */
export function evaluationImages(config: RunConfig | null | undefined): number | null {
  if (!config?.data) return null;
  const whole = TEST_SET_SIZES[config.data.dataset] ?? null;
  const testSize = config.data.testSize ?? whole;
  const v = config.verification;
  const attack = v.mode !== "none" && v.pgdSteps > 0 && v.attackSamples !== 0;
  const sizes = [testSize, attack ? (v.attackSamples ?? whole) : null, whole].filter((x): x is number => x != null);
  return sizes.length ? Math.min(...sizes) : null;
}

/** The Wilson 95% interval of an accuracy measured on n images (k = round(accuracy · n)). */
export function accuracyInterval(accuracy: number | null | undefined, n: number | null | undefined): Interval | null {
  if (accuracy == null || !Number.isFinite(accuracy) || !n) return null;
  return wilson(Math.round(accuracy * n), n);
}

/** "[39.7, 89.2]" in percent, or "" without an interval. */
export function intervalText(ci: Interval | null | undefined, digits = 1): string {
  return ci ? `[${(ci.lo * 100).toFixed(digits)}, ${(ci.hi * 100).toFixed(digits)}]` : "";
}

/** "70.0% [39.7, 89.2]": an accuracy with its 95% interval. */
export function withInterval(accuracy: number | null | undefined, ci: Interval | null | undefined): string {
  if (accuracy == null || !Number.isFinite(accuracy)) return "–";
  return `${(accuracy * 100).toFixed(1)}%${ci ? ` ${intervalText(ci)}` : ""}`;
}
