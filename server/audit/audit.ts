/**
 * The independent audit of a verified round: a second runtime (onnxruntime, not the
 * engine's PyTorch) checks the engine's claims about the exported model.
 *
 *   1. Clean accuracy: every verification sample is run through round_<k>/model.onnx;
 *      the samples it classifies correctly must be exactly those the engine did not call
 *      "misclassified", and every accuracy figure the engine reported must match.
 *   2. Counterexamples: every "falsified" sample's counterexample must lie in the box
 *      [x0 - eps, x0 + eps] ∩ [0, 1] (within BOX_TOLERANCE) and be misclassified.
 *
 * Inputs are the engine's files: <run>/verification_samples.json (the images it saw),
 * round_<k>/verification.json (per-sample outcomes with counterexamples) and the figures
 * the dashboard shows (round_finished), passed in by the caller.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { pct } from "@/lib/format";
import { RunPaths } from "../runPaths";

/** A counterexample may leave the box by float rounding of x0 ± eps, no more. */
export const BOX_TOLERANCE = 1e-6;
/**
 * Two runtimes may round logits differently: a decision whose margin is within this
 * (relative) distance of zero is "borderline" and not held against the engine.
 */
export const LOGIT_TOLERANCE = 1e-5;

export interface VerificationSamples {
  eps: number;
  shape: number[];
  indices: number[];
  labels: number[];
  images: number[][];
}
export interface ClaimedSample {
  index: number;
  label: number;
  status: "verified" | "falsified" | "unknown" | "misclassified";
  counterexample?: number[] | null;
}
/** An accuracy figure the engine reported, with where it was read. */
export interface ClaimedFigure {
  source: string;
  samples: number;
  misclassified: number;
}

export interface AuditResult {
  status: "passed" | "disputed" | "incomplete";
  runtime: string;
  samples: number;
  eps: number;
  cleanAccuracy: { audit: number; engine: number | null; matches: boolean; disagreements: number[]; borderline: number[] };
  counterexamples: { claimed: number; replayed: number; valid: number; missing: number; invalid: { index: number; reason: string }[] };
  /** Every finding that disputes the engine, in words. */
  problems: string[];
  /** Findings that leave part of the audit undone (e.g. counterexamples not recorded). */
  notes: string[];
  seconds: number;
}

type Ort = typeof import("onnxruntime-node");
let ortModule: Ort | null = null;
function ort(): Ort {
  // Loaded on first use: the native module costs ~100 ms and most requests never audit.
  ortModule ??= require("onnxruntime-node") as Ort;
  return ortModule;
}

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Logits (N, K) of the model on flattened NCHW images, in batches. */
async function logitsOf(session: import("onnxruntime-node").InferenceSession, images: number[][], shape: number[], fixedBatch: number | null): Promise<Float32Array[]> {
  const { Tensor } = ort();
  const size = product(shape);
  const batch = fixedBatch ?? 256;
  const out: Float32Array[] = [];
  for (let start = 0; start < images.length; start += batch) {
    const chunk = images.slice(start, start + batch);
    const n = fixedBatch ?? chunk.length;
    const data = new Float32Array(n * size);
    chunk.forEach((image, i) => data.set(image, i * size));
    const result = await session.run({ [session.inputNames[0]]: new Tensor("float32", data, [n, ...shape]) });
    const logits = result[session.outputNames[0]];
    const k = logits.dims[logits.dims.length - 1];
    const values = logits.data as Float32Array;
    for (let i = 0; i < chunk.length; i++) out.push(values.slice(i * k, (i + 1) * k));
  }
  return out;
}

/** The label's margin over the best other class: > 0 correct, <= 0 misclassified; and its tolerance. */
function margin(logits: Float32Array, label: number): { margin: number; tolerance: number } {
  let best = -Infinity, scale = 0;
  logits.forEach((v, j) => {
    scale = Math.max(scale, Math.abs(v));
    if (j !== label) best = Math.max(best, v);
  });
  return { margin: logits[label] - best, tolerance: LOGIT_TOLERANCE * (1 + scale) };
}

/** Why a counterexample x is not in the box around x0 (flattened), or null when it is. */
function boxProblem(x: number[], x0: number[] | undefined, eps: number): string | null {
  if (!x0) return "it names no verification sample";
  if (x.length !== x0.length) return `it has ${x.length} values, the input has ${x0.length}`;
  for (let j = 0; j < x.length; j++) {
    const lo = Math.max(x0[j] - eps, 0), hi = Math.min(x0[j] + eps, 1);
    if (!Number.isFinite(x[j]) || x[j] < lo - BOX_TOLERANCE || x[j] > hi + BOX_TOLERANCE) {
      return `pixel ${j} is ${x[j]}, outside [${lo.toPrecision(6)}, ${hi.toPrecision(6)}] (the eps box ∩ [0, 1])`;
    }
  }
  return null;
}

/** Runs the audit of one model against the engine's claims about it. */
export async function auditModel(input: {
  model: Uint8Array;
  samples: VerificationSamples;
  claims: ClaimedSample[];
  figures: ClaimedFigure[];
  eps?: number | null;
}): Promise<AuditResult> {
  const started = performance.now();
  const { samples, claims } = input;
  const problems: string[] = [], notes: string[] = [];
  const size = product(samples.shape);
  const n = samples.images.length;
  if (samples.labels.length !== n || samples.images.some((im) => im.length !== size)) {
    throw new Error(`verification_samples.json is inconsistent: ${n} images, ${samples.labels.length} labels, shape [${samples.shape}]`);
  }
  if (input.eps != null && Math.abs(input.eps - samples.eps) > 1e-12) {
    problems.push(`the verification used eps ${input.eps} but the samples file says ${samples.eps}`);
  }
  const { InferenceSession } = ort();
  const session = await InferenceSession.create(input.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const declared = session.inputMetadata?.[0];
  const batchDim = declared && "shape" in declared && declared.isTensor ? declared.shape[0] : null;
  const fixedBatch = typeof batchDim === "number" && batchDim > 0 ? batchDim : null;
  if (fixedBatch !== null && fixedBatch !== 1) throw new Error(`the model's batch size is fixed at ${fixedBatch}; export it with batch 1 or a symbolic batch`);

  // 1. Clean accuracy on the verification samples.
  const clean = await logitsOf(session, samples.images, samples.shape, fixedBatch);
  const byIndex = new Map(claims.map((c) => [c.index, c]));
  if (byIndex.size !== claims.length) problems.push("the engine reported some samples more than once");
  let correct = 0;
  const disagreements: number[] = [], borderline: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = samples.labels[i];
    const m = margin(clean[i], label);
    if (m.margin > 0) correct++;
    const claim = byIndex.get(i);
    if (!claim) {
      problems.push(`sample ${i} was verified according to the samples file but the engine reported no outcome for it`);
      continue;
    }
    if (claim.label !== label) problems.push(`sample ${i}: the engine reported label ${claim.label} but the sample's label is ${label}`);
    const engineCorrect = claim.status !== "misclassified";
    if (engineCorrect === m.margin > 0) continue;
    if (Math.abs(m.margin) <= m.tolerance) borderline.push(i);
    else disagreements.push(i);
  }
  const extra = claims.filter((c) => c.index < 0 || c.index >= n);
  if (extra.length) problems.push(`the engine reported ${extra.length} sample(s) that are not among the ${n} verification samples`);
  if (disagreements.length) {
    problems.push(`onnxruntime classifies sample(s) ${disagreements.slice(0, 10).join(", ")}${disagreements.length > 10 ? ", ..." : ""} differently from the engine (clean input)`);
  }
  const auditAccuracy = n ? correct / n : 0;
  const engineMisclassified = claims.filter((c) => c.status === "misclassified").length;
  const engineAccuracy = claims.length ? (claims.length - engineMisclassified) / claims.length : null;
  for (const figure of input.figures) {
    const claimed = figure.samples ? (figure.samples - figure.misclassified) / figure.samples : 0;
    if (figure.samples !== n || Math.abs(claimed - auditAccuracy) > 1e-9) {
      problems.push(`${figure.source} claims clean accuracy ${pct(claimed)} on ${figure.samples} samples; onnxruntime measures ${pct(auditAccuracy)} on ${n}`);
    }
  }
  if (engineAccuracy !== null && claims.length === n && Math.abs(engineAccuracy - auditAccuracy) > 1e-9 && !disagreements.length && !borderline.length) {
    problems.push(`the per-sample outcomes give clean accuracy ${pct(engineAccuracy)}; onnxruntime measures ${pct(auditAccuracy)}`);
  }

  // 2. Replay every counterexample.
  const falsified = claims.filter((c) => c.status === "falsified");
  const recorded = falsified.filter((c) => c.counterexample != null);
  const missing = falsified.length - recorded.length;
  const invalid: { index: number; reason: string }[] = [];
  const inBox = recorded.filter((c) => {
    const reason = boxProblem(c.counterexample!, samples.images[c.index], samples.eps);
    if (reason) invalid.push({ index: c.index, reason });
    return !reason;
  });
  const replayedLogits = await logitsOf(session, inBox.map((c) => c.counterexample!), samples.shape, fixedBatch);
  inBox.forEach((c, i) => {
    const m = margin(replayedLogits[i], samples.labels[c.index]);
    if (m.margin > m.tolerance) {
      invalid.push({ index: c.index, reason: `onnxruntime classifies it correctly (margin ${m.margin.toPrecision(4)}): it is not a counterexample` });
    }
  });
  invalid.sort((a, b) => a.index - b.index);
  for (const bad of invalid) problems.push(`counterexample of sample ${bad.index}: ${bad.reason}`);
  if (missing > 0) notes.push(`${missing} falsified sample(s) have no recorded counterexample (verified before audits were recorded) and could not be replayed`);
  if (borderline.length) notes.push(`sample(s) ${borderline.join(", ")} lie within float rounding of the decision boundary; the runtimes may disagree there`);
  return {
    status: problems.length ? "disputed" : missing > 0 ? "incomplete" : "passed",
    runtime: `onnxruntime-node ${ort().env.versions?.common ?? ""}`.trim(),
    samples: n,
    eps: samples.eps,
    cleanAccuracy: { audit: auditAccuracy, engine: engineAccuracy, matches: !disagreements.length && !problems.some((p) => p.includes("clean accuracy")), disagreements, borderline },
    counterexamples: { claimed: falsified.length, replayed: recorded.length, valid: recorded.length - invalid.length, missing, invalid },
    problems,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The files a round's audit reads, and a hash of everything it depends on (the cache key). */
export interface RoundFiles {
  model: Buffer;
  samples: VerificationSamples;
  verification: { eps?: number; samples?: number; misclassified?: number; results: ClaimedSample[] };
  hash: string;
}

export class AuditUnavailable extends Error {}

export function readRoundFiles(runDir: string, round: number, figures: ClaimedFigure[] = []): RoundFiles {
  const paths = new RunPaths(runDir);
  const need = (file: string, why: string) => {
    if (!existsSync(file)) throw new AuditUnavailable(why);
    return readFileSync(file);
  };
  const model = need(paths.onnx(round), `round ${round} has no exported model yet (round_${round}/model.onnx); verified rounds export one when they finish`);
  const samplesText = need(paths.verificationSamples, "this run did not record its verification samples (runs before audits did not); re-run it to audit it");
  const verificationText = need(paths.verification(round), `round ${round} has no verification results yet`);
  const hash = createHash("sha256").update(model).update(samplesText).update(verificationText).update(JSON.stringify(figures)).digest("hex");
  return { model, samples: JSON.parse(samplesText.toString("utf8")), verification: JSON.parse(verificationText.toString("utf8")), hash };
}

/** Audits round `round` of the run in `runDir`; `figures` are the numbers the dashboard shows. */
export async function auditRound(runDir: string, round: number, figures: ClaimedFigure[] = [], files = readRoundFiles(runDir, round, figures)): Promise<AuditResult> {
  const { verification } = files;
  const fileFigures: ClaimedFigure[] =
    typeof verification.samples === "number" && typeof verification.misclassified === "number"
      ? [{ source: `round_${round}/verification.json`, samples: verification.samples, misclassified: verification.misclassified }]
      : [];
  return auditModel({ model: files.model, samples: files.samples, claims: verification.results, figures: [...fileFigures, ...figures], eps: verification.eps ?? null });
}
