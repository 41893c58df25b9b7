/**
 * Warnings before a launch whose result cannot answer the question a reviewer will ask
 * ("does method A verify more than method B?"): too few verification samples for the
 * interval to separate methods, a single seed (no spread across training runs), or a
 * verifier set up but given no samples. Pure; the launch form shows them
 * (components/launch/LaunchWarnings).
 *
 *   launchWarnings({ config, seeds: 1, methods: 2 }) -> [{ code: "one-seed", text: "..." }, ...]
 */
import type { RunConfig, RunConfigInput } from "./protocol";
import { wilson } from "./stats";

/** Below this many verification samples a 95% interval is wider than about ±10 points. */
export const MIN_SAMPLES = 100;

export interface LaunchWarning {
  code: "few-samples" | "one-seed" | "no-samples" | "no-verification";
  text: string;
}

type Verification = Partial<RunConfig["verification"]>;

/** Warnings for a launch of `methods` methods x `seeds` seeds with this configuration. */
export function launchWarnings({ config, seeds, methods }: { config: RunConfigInput | RunConfig | null | undefined; seeds: number; methods: number }): LaunchWarning[] {
  const warnings: LaunchWarning[] = [];
  const v = (config?.verification ?? {}) as Verification;
  const mode = v.mode ?? "bab";
  const samples = v.samples ?? 200;
  if (mode === "none") {
    warnings.push({ code: "no-verification", text: "Verification is off: the runs will report no verified accuracy, so they cannot compare certified robustness." });
  } else if (samples === 0) {
    warnings.push({
      code: "no-samples",
      text: `The ${mode === "bab" ? "complete verifier (branch and bound)" : "verifier"} is set up with 0 verification samples: nothing will be verified, and no verified accuracy or paired test can be reported.`,
    });
  } else if (samples < MIN_SAMPLES) {
    const ci = wilson(Math.round(samples / 2), samples)!;
    const half = Math.round(((ci.hi - ci.lo) / 2) * 100);
    warnings.push({
      code: "few-samples",
      text: `${samples} verification sample${samples === 1 ? "" : "s"}: a verified accuracy near 50% has a 95% interval of about ±${half} points, too wide to tell most methods apart. Use at least ${MIN_SAMPLES}.`,
    });
  }
  if (seeds < 2) {
    warnings.push({
      code: "one-seed",
      text: `One seed: the result${methods > 1 ? "s" : ""} cannot show how much a different training run would change ${methods > 1 ? "them" : "it"}, and no test across seeds is possible. Use several seeds (e.g. 0, 1, 2).`,
    });
  }
  return warnings;
}
