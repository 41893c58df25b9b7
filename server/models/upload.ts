/**
 * Bring your own model: an uploaded ONNX file is checked (size, ONNX structure, the
 * verifier's operators), stored once under <dataDir>/uploads/<sha256>.onnx, and
 * verified by the engine as a run (model.arch "onnx") launched like any other (launchRun),
 * so it queues, streams, shares and is audited like any run.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DATASET_INPUTS, datasetsOfShape, shapeText, type Dataset } from "@/lib/datasets";
import { formatSize } from "@/lib/format";
import { DATASETS, fieldErrors, RunConfig, type FieldErrors } from "@/lib/protocol";
import type { User } from "../auth/accounts";
import { launchRun } from "../jobs/launch";
import { uploadsDir } from "../runPaths";
import type { Services } from "../services";
import { SUPPORTED_OPS, type Inspection } from "./inspect";
import { InspectionLimitError, inspectOffThread, type OffThreadLimits } from "./inspectOffThread";
import { OnnxFormatError } from "./onnxReader";

export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** The largest model accepted, in bytes (CERTPRUNE_MAX_UPLOAD_BYTES, default 50 MiB). */
export function maxUploadBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.CERTPRUNE_MAX_UPLOAD_BYTES);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_UPLOAD_BYTES;
}

/** A refused upload: an HTTP status, a message, and the form field it concerns. */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors: FieldErrors = {},
  ) {
    super(message);
  }
}

/** The form's settings besides the file (strings from the form, converted here). */
export const UploadSettings = z
  .object({
    dataset: z.enum(DATASETS),
    eps: z.number().min(0, "eps is at least 0").max(1, "eps is at most 1 (pixel space [0, 1])").nullable(),
    samples: z.number().int("a whole number of samples").min(1, "verify at least 1 sample").max(10_000, "at most 10,000 samples"),
    mode: z.enum(["crown", "alpha-crown", "bab"]).default("bab"),
    timeout: z.number().positive().max(3600).default(60),
  })
  .strict();
export type UploadSettings = z.input<typeof UploadSettings>;

/**
 * Checks the file; throws UploadError naming the problem. Returns what the file holds.
 * The file is read in a worker thread, with a time and memory limit (inspectOffThread).
 */
export async function checkModel(bytes: Uint8Array, limit = maxUploadBytes(), readLimits?: OffThreadLimits): Promise<Inspection> {
  if (bytes.byteLength > limit) {
    throw new UploadError(413, `the model is ${formatSize(bytes.byteLength)}; uploads are limited to ${formatSize(limit)} (CERTPRUNE_MAX_UPLOAD_BYTES)`, { model: ["file too large"] });
  }
  let inspection;
  try {
    inspection = await inspectOffThread(bytes, readLimits);
  } catch (error) {
    if (error instanceof InspectionLimitError) throw new UploadError(422, `the model could not be read: ${error.message}`, { model: [error.message] });
    if (!(error instanceof OnnxFormatError)) throw error;
    throw new UploadError(400, `not a valid ONNX model: ${error.message}`, { model: [error.message] });
  }
  if (inspection.unsupported.length) {
    const list = inspection.unsupported.slice(0, 3).join("; ");
    throw new UploadError(
      400,
      `unsupported ONNX operator ${list}${inspection.unsupported.length > 3 ? ` (and ${inspection.unsupported.length - 3} more)` : ""}; the verifier supports ${SUPPORTED_OPS.join(", ")}`,
      { model: [`unsupported operator ${inspection.unsupported[0]}`] },
    );
  }
  if (!inspection.layers.length) throw new UploadError(400, "the model has no Conv, Gemm or MatMul layer with weights: nothing to verify", { model: ["no layers"] });
  return inspection;
}

/**
 * Checks that the model takes the dataset's images (batch first, then channels x height x
 * width, exactly as the engine's loader gives them) and, where its output shape is declared,
 * gives one logit per class; throws UploadError naming both shapes.
 */
export function checkShapes(inspection: Pick<Inspection, "input" | "output">, dataset: Dataset): void {
  const data = DATASET_INPUTS[dataset];
  const expected = shapeText(data.shape);
  const input = inspection.input;
  if (!input?.shape || input.shape.length < 2) {
    const declared = input?.shape ? `[${shapeText(input.shape)}]` : "no shape";
    throw new UploadError(400, `the model's input ${input ? `"${input.name}" ` : ""}has ${declared}; the verifier needs a batch dimension first, then the image: [N, ${data.shape.join(", ")}] for ${data.name}`, {
      model: ["input shape not declared"],
    });
  }
  const image = input.shape.slice(1);
  if (image.some((d) => typeof d !== "number" || d <= 0)) {
    throw new UploadError(400, `the model's input "${input.name}" has shape ${shapeText(input.shape)}, with image dimensions that are not fixed; ${data.name} images are ${expected} (channels x height x width)`, {
      model: [`input shape ${shapeText(input.shape)} is not fixed`],
    });
  }
  if (shapeText(image) !== expected) {
    const fits = datasetsOfShape(image).map((d) => DATASET_INPUTS[d].name);
    throw new UploadError(
      400,
      `the model takes inputs of shape ${shapeText(image)} but ${data.name} images are ${expected} (channels x height x width): choose the dataset the model was trained on${fits.length ? ` (${shapeText(image)} is ${fits.join(" or ")})` : ""}`,
      { dataset: [`${data.name} is ${expected}; the model takes ${shapeText(image)}`] },
    );
  }
  const output = inspection.output?.shape;
  const classes = output && output.length === 2 ? output[1] : null;
  if (typeof classes === "number" && classes !== data.classes) {
    throw new UploadError(400, `the model outputs ${classes} logits per image but ${data.name} has ${data.classes} classes: choose the dataset the model was trained on`, {
      dataset: [`${data.name} has ${data.classes} classes; the model outputs ${classes}`],
    });
  }
}

/** Stores the model (content-addressed) and returns its path. */
function storeModel(dataDir: string, bytes: Uint8Array): string {
  const folder = uploadsDir(dataDir);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${createHash("sha256").update(bytes).digest("hex")}.onnx`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file); // never a half-written model under the final name
  }
  return file;
}

/** Validates, stores and queues an uploaded model for verification; returns the run's id. */
export async function acceptUpload(
  services: Services,
  user: User,
  upload: { bytes: Uint8Array; fileName: string; settings: UploadSettings },
): Promise<{ runId: string; created: boolean; modelPath: string }> {
  const settings = UploadSettings.safeParse(upload.settings);
  if (!settings.success) throw new UploadError(400, "check the highlighted settings", fieldErrors(settings.error));
  checkShapes(await checkModel(upload.bytes), settings.data.dataset);
  const modelPath = storeModel(services.settings.dataDir, upload.bytes);
  const { dataset, eps, samples, mode, timeout } = settings.data;
  const config = RunConfig.parse({
    data: { dataset },
    model: { arch: "onnx", onnx: modelPath },
    // Not trained or pruned: one round, whose progress is its verification.
    training: { epochs: 1 },
    pruning: { method: "none", rounds: 0 },
    verification: { mode, eps, samples, timeout },
  });
  const name = path.basename(upload.fileName || "model.onnx").slice(0, 100);
  const { id, created } = launchRun(services, user, config, { label: `Uploaded ${name}`.trim() });
  return { runId: id, created, modelPath };
}
