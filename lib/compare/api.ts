/**
 * What results.compare answers: each run's settings and its finished rounds, compacted
 * (the server builds them with roundResultOf; the compare page and a shared comparison
 * aggregate them into series, ./series).
 */
import type { EventOf, RunConfig, RunStatus } from "../protocol";


/**
 * A round_finished event without its envelope, one row of a run's curve, with each
 * layer's remaining fraction of weights (name -> fraction) in place of the full layer
 * records: a comparison of many runs stays a small payload.
 */
export type RoundResult = Omit<EventOf<"round_finished">, "type" | "seq" | "time" | "layers"> & { layerRemaining: Record<string, number> };

/** Six significant digits: all a chart or table shows, and a third of the bytes of a double. */
const short = (x: number) => (Number.isInteger(x) ? x : Number(x.toPrecision(6)));

/** A stored round_finished event as a RoundResult (fractions and seconds to 6 significant digits). */
export function roundResultOf(event: EventOf<"round_finished">): RoundResult {
  const { type: _type, seq: _seq, time: _time, layers, ...result } = event;
  const layerRemaining: Record<string, number> = {};
  for (const l of layers) if (l.weights > 0) layerRemaining[l.name] = short(l.remainingWeights / l.weights);
  const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === "number" ? short(v) : v]));
  return { ...(rounded as typeof result), layerRemaining };
}

export const OUTCOMES = ["verified", "falsified", "unknown", "misclassified"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type OutcomeCounts = Record<Outcome, number>;

/**
 * The engine's best round of a run (one rule, decided by the engine: the most verified
 * samples, ties to the earliest round), from its `finished` event; before a run finishes
 * (or for runs stored before the engine said so) the server's summary of the rounds so far.
 */
export interface BestRound {
  round: number;
  verifiedAccuracy: number | null;
  /** The rule in the engine's words; null when the engine did not state it. */
  rule: string | null;
  /** Rounds not significantly different from the best (McNemar, p >= 0.05); null: not recorded. */
  indistinguishable: number[] | null;
  /** "engine": its finished event; "summary": the leader so far, the run has not finished. */
  source: "engine" | "summary";
}

/** Per-sample verdict characters of a round's verification, indexed by sample. */
export const VERDICT_CHARS = { verified: "v", falsified: "f", unknown: "u", misclassified: "m" } as const;
/** A sample the round has no verdict for. */
export const NO_VERDICT = ".";

/**
 * The per-sample verdicts of one round, one character per sample index (VERDICT_CHARS,
 * "." for none): "vvfum.v". For paired tests between rounds on the same samples.
 */
export interface RoundVerdicts {
  round: number;
  verdicts: string;
}

/** What results.compare returns for one run. */
export interface CompareRun {
  id: string;
  label: string;
  status: RunStatus;
  /** 0..1, as the overview shows it. */
  progress: number;
  sweepId: string | null;
  config: RunConfig;
  /** One per finished round, ascending. */
  rounds: RoundResult[];
  /** Outcome counts of the rounds still being verified, from the per-sample events. */
  sampleOutcomes: ({ round: number } & OutcomeCounts)[];
  /** The engine's best round (null: none yet, e.g. nothing verified). */
  best?: BestRound | null;
  /** Per-sample verdicts of round 0 and of the best round (what the paired tests need). */
  verdicts?: RoundVerdicts[];
}

/** What results.compare returns (and a shared comparison shows). */
export interface CompareResult {
  runs: CompareRun[];
  /** Requested ids with no run (deleted, or never existed). */
  missing: string[];
}
