/**
 * Every event the engine writes to stdout (one JSON object per line). Exported to
 * engine/schemas/events.schema.json; the engine validates each event before writing it,
 * and the server parses each line with these schemas before storing it.
 */
import { z } from "zod";
import { RUN_STATUSES } from "./names";

const count = z.number().int().min(0);
const fraction = z.number().min(0).max(1);
const seconds = z.number().min(0);
const round = z.number().int().min(0);

const common = {
  seq: count.describe("Position of the event in this engine process's output."),
  time: z.string().describe("ISO 8601 time the engine wrote the event."),
};

const histogram = z.object({ edges: z.array(z.number()), counts: z.array(count) });
const stableCounts = z.object({ active: count, inactive: count, unstable: count });
/** A count out of a total, e.g. remaining weights out of all weights. */
const share = z.object({ remaining: count, total: count });

/**
 * Fields added after runs were first stored are optional here so that events written by
 * an older engine still parse; the engine always writes them.
 */

export const SAMPLE_STATUSES = ["verified", "falsified", "unknown", "misclassified"] as const;
export const DECIDED_BY = ["clean", "pgd", "ibp", "crown", "alpha-crown", "bab", "timeout"] as const;
export const ARTIFACT_KINDS = [
  "init", "checkpoint", "mask", "onnx", "vnnlib", "instances", "metrics", "verification", "stability",
] as const;

export const StartedEvent = z.object({
  type: z.literal("started"),
  ...common,
  runId: z.string(),
  config: z.record(z.string(), z.unknown()),
  device: z.string(),
  torchVersion: z.string(),
  resumed: z.boolean(),
  plan: z
    .object({
      kind: z.enum(["experiment", "uploaded-model"]).describe("A train-prune-verify run, or verification of an uploaded ONNX model."),
      rounds: z.number().int().min(1).describe("Rounds the run will perform, the dense round 0 included."),
      remainingTargets: z.array(fraction).describe("Planned remaining fraction of the pruned scope after each round's pruning, round 0 first."),
      pruneRate: fraction.nullable().describe("Fraction of what remains removed per round (resolved default), null when not pruning."),
      unit: z.enum(["weights", "channels"]).nullable().describe("What the method prunes."),
      epochs: count.describe("Training epochs per round."),
      lr: z.number().min(0).nullable().describe("Resolved learning rate."),
      weightDecay: z.number().min(0).nullable().describe("Resolved weight decay."),
      trainEps: z.number().min(0).nullable().describe("Resolved training epsilon."),
      verifyEps: z.number().min(0).nullable().describe("Resolved verification epsilon."),
      epsSchedule: z.array(z.number().min(0)).describe("Training epsilon per epoch of one round."),
      bestRoundRule: z.string().describe("How the engine picks the best round, in words."),
    })
    .optional(),
});

export const RoundStartedEvent = z.object({
  type: z.literal("round_started"),
  ...common,
  round,
  rounds: z.number().int().min(1),
  remainingRatio: fraction,
});

export const EpochEvent = z.object({
  type: z.literal("epoch"),
  ...common,
  round,
  epoch: z.number().int().min(1),
  epochs: z.number().int().min(1),
  loss: z.number(),
  trainAccuracy: fraction,
  testAccuracy: fraction.nullable(),
  robustAccuracy: fraction.nullable(),
  eps: z.number().min(0),
  lr: z.number().min(0),
  seconds,
});

export const PHASES = ["setup", "train", "evaluate", "stability", "verify", "prune", "export"] as const;

/**
 * Progress inside a phase (batches of an epoch, samples of verification), written at most
 * every couple of seconds. The server keeps only the latest one per run (not stored).
 */
export const ProgressEvent = z.object({
  type: z.literal("progress"),
  ...common,
  round,
  phase: z.enum(PHASES),
  epoch: z.number().int().min(1).nullable(),
  done: count,
  total: count,
  seconds: seconds.describe("Seconds since the phase (or epoch) began."),
});

export const SampleVerifiedEvent = z.object({
  type: z.literal("sample_verified"),
  ...common,
  round,
  index: count,
  label: count,
  predicted: count,
  status: z.enum(SAMPLE_STATUSES),
  decidedBy: z.enum(DECIDED_BY),
  seconds,
  marginLower: z.number().nullable().describe("Lower bound on the margin at the root, before any branching."),
  finalMarginLower: z
    .number()
    .nullable()
    .optional()
    .describe("Branch and bound: the smallest lower bound over the open subdomains when it stopped (>0 when verified); null otherwise."),
  domains: count,
});

export const StabilityLayer = z.object({
  name: z.string(),
  neurons: count.describe("Neuron x sample pairs counted (units x samples)."),
  units: count.optional().describe("Neurons in the layer."),
  samples: count.optional().describe("Samples the counts are over."),
  unstableUnits: count.optional().describe("Neurons unstable (IBP) on at least one sample."),
  unstableFraction: histogram.optional().describe("Per neuron: the fraction of samples on which it is unstable (IBP)."),
  ibp: stableCounts,
  crown: stableCounts.nullable(),
  instability: z.number().min(0),
  histograms: z.object({ lower: histogram, upper: histogram, instability: histogram }),
});

export const StabilityEvent = z.object({
  type: z.literal("stability"),
  ...common,
  round,
  eps: z.number().min(0),
  layers: z.array(StabilityLayer),
  samples: count.optional(),
  unstablePerSample: z.array(count).optional().describe("Per sample: unstable neurons (IBP) over all layers."),
});

export const LayerSparsity = z.object({
  name: z.string(),
  kind: z.enum(["conv", "linear"]),
  weights: count,
  remainingWeights: count,
  channels: count,
  remainingChannels: count,
});

export const RoundFinishedEvent = z.object({
  type: z.literal("round_finished"),
  ...common,
  round,
  remainingRatio: fraction.describe("Remaining fraction of the weights in the pruned scope."),
  remainingChannelRatio: fraction,
  sparsity: z
    .object({
      scope: share.describe("Weights in the pruned layers (the pruning scope)."),
      all: share.describe("All weights of the network (conv and linear layers)."),
      channels: share.nullable().describe("Channels/neurons in the pruned layers; null unless the method is structured."),
    })
    .optional(),
  standardAccuracy: fraction,
  adversarialAccuracy: fraction.nullable(),
  verifiedAccuracy: fraction.nullable(),
  verified: count,
  falsified: count,
  unknown: count,
  misclassified: count,
  samples: count,
  meanVerifySeconds: seconds.nullable(),
  unstableRatio: fraction.nullable(),
  instability: z.number().min(0).nullable(),
  seconds,
  layers: z.array(LayerSparsity),
});

export const ArtifactEvent = z.object({
  type: z.literal("artifact"),
  ...common,
  round: round.nullable(),
  kind: z.enum(ARTIFACT_KINDS),
  path: z.string(),
  bytes: count,
});

export const LogEvent = z.object({
  type: z.literal("log"),
  ...common,
  round: round.nullable().optional(),
  phase: z.enum(PHASES).nullable().optional(),
  level: z.enum(["debug", "info", "warning", "error"]),
  message: z.string(),
});

export const FinishedEvent = z.object({
  type: z.literal("finished"),
  ...common,
  bestRound: round.nullable(),
  bestVerifiedAccuracy: fraction.nullable(),
  bestRoundRule: z.string().optional().describe("The rule that picked bestRound, in words."),
  indistinguishableRounds: z
    .array(round)
    .optional()
    .describe("Rounds whose verified accuracy does not differ significantly from the best round's (paired exact McNemar test on the same samples, two-sided p >= 0.05)."),
  rounds: count,
  seconds,
});

export const FailedEvent = z.object({
  type: z.literal("failed"),
  ...common,
  reason: z.string(),
  detail: z.string().nullable(),
  phase: z.string().nullable(),
});

export const EngineEvent = z.discriminatedUnion("type", [
  StartedEvent,
  RoundStartedEvent,
  EpochEvent,
  ProgressEvent,
  SampleVerifiedEvent,
  StabilityEvent,
  RoundFinishedEvent,
  ArtifactEvent,
  LogEvent,
  FinishedEvent,
  FailedEvent,
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EngineEventType = EngineEvent["type"];
export type EventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;
export type SampleStatus = (typeof SAMPLE_STATUSES)[number];

/**
 * Written by the server, never by the engine: a run's status changed. Stored in the
 * same event stream, so a subscriber knows when a run's stream has ended.
 */

export const RunStatusEvent = z.object({
  type: z.literal("status"),
  time: z.string(),
  status: z.enum(RUN_STATUSES),
  error: z.string().nullable(),
});
export type RunStatusEvent = z.infer<typeof RunStatusEvent>;

/** Everything a run's event stream holds. */
export type RunEvent = EngineEvent | RunStatusEvent;
