/**
 * Bring your own model, in-process: models written by the engine's own ONNX exporter (and
 * one with an operator the verifier lacks, written with the onnx package), uploaded,
 * verified by the real engine and audited; malformed, unsupported and oversized files refused.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventOf } from "@/lib/protocol";
import { ENGINE_PYTHON } from "@/tests/harness";
import { researcher, testServices, waitForStatus, callerFor } from "../testing";
import { acceptUpload, checkShapes, UploadError } from "./upload";

const ENGINE_DIR = path.resolve(__dirname, "..", "..", "engine");
const scratch = mkdtempSync(path.join(os.tmpdir(), "certprune-upload-"));
let services: ReturnType<typeof testServices>;

/** Runs Python (with PyTorch and onnx) to write a model file; returns its bytes. */
function pythonModel(name: string, script: string): Uint8Array {
  const file = path.join(scratch, name);
  const done = spawnSync(ENGINE_PYTHON, ["-c", script, file], { cwd: ENGINE_DIR, encoding: "utf8" });
  if (done.status !== 0) throw new Error(`writing ${name} failed:\n${done.stderr}`);
  return readFileSync(file);
}

/** An MLP for the synthetic data (1x16x16, 10 classes), a third of its first layer's rows zeroed. */
const exportedMlp = (width: number) => `
import sys, torch
from certprune.data import dataset_info
from certprune.models import build_model
from certprune.onnx_io import export_onnx
info = dataset_info("synthetic")
torch.manual_seed(1)
model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, [${width}]).eval()
first = [m for m in model if isinstance(m, torch.nn.Linear)][0]
with torch.no_grad():
    first.weight[: first.weight.shape[0] // 3] = 0
export_onnx(model, info.input_shape, sys.argv[1])
`;

const SIGMOID_MODEL = `
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
w = numpy_helper.from_array(np.ones((10, 256), dtype=np.float32), "w")
nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("Sigmoid", ["f"], ["s"], name="squash"),
         helper.make_node("Gemm", ["s", "w"], ["y"], transB=1)]
graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializer=[w])
onnx.save(helper.make_model(graph), sys.argv[1])
`;

const SETTINGS = { dataset: "synthetic" as const, eps: 0.05, samples: 8, mode: "crown" as const, timeout: 20 };

beforeAll(() => {
  services = testServices();
});
afterAll(async () => {
  await services?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe("uploading a model", () => {
  it("verifies a valid model like a run, with its audit and inspection", async () => {
    const bytes = pythonModel("mlp.onnx", exportedMlp(24));
    const user = researcher(services, "tester");
    const { runId, created, modelPath } = await acceptUpload(services, user, { bytes, fileName: "my-mlp.onnx", settings: SETTINGS });
    expect(created).toBe(true);
    expect(path.dirname(modelPath)).toBe(path.join(services.settings.dataDir, "uploads"));
    expect(readFileSync(modelPath)).toEqual(Buffer.from(bytes));
    const run = await waitForStatus(services, runId, ["finished", "failed"], 100_000);
    expect(run.error).toBeNull();
    expect(run.label).toBe("Uploaded my-mlp.onnx");
    expect(run.owner).toBe("tester");

    const [event] = services.runs.eventsAfter(runId, 0, ["round_finished"]).map((s) => s.event as EventOf<"round_finished">);
    expect(event.samples).toBe(8);
    expect(event.layers.map((l) => [l.name, l.remainingChannels])).toEqual([["fc1", 16], ["fc2", 10]]);
    const caller = callerFor(services);
    const audit = await caller.models.audit({ runId, round: 0 });
    expect(audit.state === "ready" && audit.result.status).toBe("passed");
    const view = await caller.models.inspect({ runId, round: 0 });
    expect(view.inspection.layers.map(({ name, kind, weights, remainingWeights, channels, remainingChannels }) => ({ name, kind, weights, remainingWeights, channels, remainingChannels }))).toEqual(event.layers);

    // The same file again is the same run (content-addressed model, hashed settings).
    const again = await acceptUpload(services, user, { bytes, fileName: "copy.onnx", settings: SETTINGS });
    expect(again).toMatchObject({ runId, created: false });
  }, 110_000);

  it("refuses a malformed file, naming the problem, and stores nothing", async () => {
    const user = researcher(services, "tester");
    const bytes = new TextEncoder().encode("this is a text file, not an ONNX model\n".repeat(20));
    const before = services.runs.list().length;
    const error = await acceptUpload(services, user, { bytes, fileName: "notes.onnx", settings: SETTINGS }).catch((e) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^not a valid ONNX model: /);
    expect(services.runs.list().length).toBe(before);
    const truncated = pythonModel("cut.onnx", exportedMlp(8)).subarray(0, 700);
    const cut = await acceptUpload(services, user, { bytes: truncated, fileName: "cut.onnx", settings: SETTINGS }).catch((e) => e);
    expect(cut.message).toMatch(/truncated/);
  });

  it("refuses a model with an operator the verifier lacks, naming it and its node", async () => {
    const bytes = pythonModel("sigmoid.onnx", SIGMOID_MODEL);
    const error = await acceptUpload(services, researcher(services, "tester"), { bytes, fileName: "s.onnx", settings: SETTINGS }).catch((e) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^unsupported ONNX operator Sigmoid at node 1 \(squash\); the verifier supports Conv, Gemm/);
  });

  it("refuses a model whose input shape is not the chosen dataset's, naming both shapes", async () => {
    const bytes = pythonModel("mlp16.onnx", exportedMlp(8)); // takes 1x16x16 (synthetic) images
    const user = researcher(services, "tester");
    const before = services.runs.list().length;
    const error = await acceptUpload(services, user, { bytes, fileName: "mlp16.onnx", settings: { ...SETTINGS, dataset: "fashion-mnist" } }).catch((e) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "the model takes inputs of shape 1x16x16 but FashionMNIST images are 1x28x28 (channels x height x width): choose the dataset the model was trained on (1x16x16 is the synthetic dataset)",
    );
    expect(error.fieldErrors).toEqual({ dataset: ["FashionMNIST is 1x28x28; the model takes 1x16x16"] });
    expect(services.runs.list().length).toBe(before);
  });

  it("checks input and output shapes against every dataset", () => {
    const model = (input: (number | string | null)[] | null, output: (number | string | null)[] | null = ["N", 10]) => ({
      input: input && { name: "x", shape: input },
      output: output && { name: "y", shape: output },
    });
    const refusal = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as UploadError).message;
      }
      return null;
    };
    expect(refusal(() => checkShapes(model(["N", 3, 32, 32]), "cifar10"))).toBeNull();
    expect(refusal(() => checkShapes(model([1, 3, 32, 32]), "svhn"))).toBeNull();
    expect(refusal(() => checkShapes(model(["N", 1, 28, 28], null), "fashion-mnist"))).toBeNull();
    expect(refusal(() => checkShapes(model(["N", 3, 64, 64], ["N", 1000]), "imagenet64"))).toBeNull();
    expect(refusal(() => checkShapes(model(["N", 3, 32, 32]), "fashion-mnist"))).toBe(
      "the model takes inputs of shape 3x32x32 but FashionMNIST images are 1x28x28 (channels x height x width): choose the dataset the model was trained on (3x32x32 is CIFAR-10 or SVHN)",
    );
    expect(refusal(() => checkShapes(model(["N", 3, 32, 32], ["N", 1000]), "imagenet64"))).toMatch(/^the model takes inputs of shape 3x32x32 but ImageNet64 images are 3x64x64 /);
    expect(refusal(() => checkShapes(model(["N", 28, 28, 1]), "fashion-mnist"))).toMatch(/shape 28x28x1 but FashionMNIST images are 1x28x28/);
    expect(refusal(() => checkShapes(model(["N", 784]), "fashion-mnist"))).toMatch(/shape 784 but FashionMNIST images are 1x28x28/);
    expect(refusal(() => checkShapes(model(["N", 3, "H", "W"]), "cifar10"))).toMatch(/shape Nx3xHxW, with image dimensions that are not fixed; CIFAR-10 images are 3x32x32/);
    expect(refusal(() => checkShapes(model(null), "cifar10"))).toMatch(/needs a batch dimension first, then the image: \[N, 3, 32, 32\] for CIFAR-10/);
    expect(refusal(() => checkShapes(model(["N", 3, 64, 64], ["N", 10]), "imagenet64"))).toBe(
      "the model outputs 10 logits per image but ImageNet64 has 1000 classes: choose the dataset the model was trained on",
    );
  });

  it("refuses an oversized upload and bad settings", async () => {
    const bytes = pythonModel("big.onnx", exportedMlp(64));
    const user = researcher(services, "tester");
    process.env.CERTPRUNE_MAX_UPLOAD_BYTES = String(bytes.byteLength - 1);
    try {
      const error = await acceptUpload(services, user, { bytes, fileName: "big.onnx", settings: SETTINGS }).catch((e) => e);
      expect(error.status).toBe(413);
      expect(error.message).toMatch(/uploads are limited to/);
    } finally {
      delete process.env.CERTPRUNE_MAX_UPLOAD_BYTES;
    }
    const bad = await acceptUpload(services, user, { bytes, fileName: "big.onnx", settings: { ...SETTINGS, eps: 3, samples: 0 } }).catch((e) => e);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.fieldErrors).sort()).toEqual(["eps", "samples"]);
    // Nothing refused was stored: the uploads folder holds only the valid model of the first test.
    expect(readdirSync(path.join(services.settings.dataDir, "uploads"))).toHaveLength(1);
  });
});
