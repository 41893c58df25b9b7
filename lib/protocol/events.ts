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
  marginLower: z.number().nullable(),
  domains: count,
});

export const StabilityLayer = z.object({
  name: z.string(),
  neurons: count,
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
  remainingRatio: fraction,
  remainingChannelRatio: fraction,
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
  level: z.enum(["debug", "info", "warning", "error"]),
  message: z.string(),
});

export const FinishedEvent = z.object({
  type: z.literal("finished"),
  ...common,
  bestRound: round.nullable(),
  bestVerifiedAccuracy: fraction.nullable(),
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
