/**
 * Bring your own model, in Chromium: the upload form refuses a malformed file, a model with
 * an operator the verifier lacks and an oversized file, each with a message naming the
 * problem; a valid model (written by the engine's exporter) becomes a verified run whose
 * inspector counts match the engine's and whose audit passes, until its files are tampered
 * with: then the round is shown as disputed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ENGINE_PYTHON, ROOT, screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const MAX_UPLOAD_BYTES = 200_000;

/** An ONNX model written by Python (the engine's exporter, or the onnx package). */
function pythonModel(script: string): Buffer {
  const done = spawnSync(ENGINE_PYTHON, ["-c", script], { cwd: path.join(ROOT, "engine"), maxBuffer: 1 << 24 });
  if (done.status !== 0) throw new Error(`writing a model failed:\n${done.stderr}`);
  return done.stdout;
}
const VALID = `
import sys, tempfile, torch
from certprune.data import dataset_info
from certprune.models import build_model
from certprune.onnx_io import export_onnx
info = dataset_info("synthetic")
torch.manual_seed(5)
model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, [20]).eval()
first = [m for m in model if isinstance(m, torch.nn.Linear)][0]
with torch.no_grad():
    first.weight[:4] = 0
path = tempfile.mktemp(suffix=".onnx")
export_onnx(model, info.input_shape, path)
sys.stdout.buffer.write(open(path, "rb").read())
`;
const SIGMOID = `
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
w = numpy_helper.from_array(np.ones((10, 256), dtype=np.float32), "w")
nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("Sigmoid", ["f"], ["s"], name="squash"),
         helper.make_node("Gemm", ["s", "w"], ["y"], transB=1)]
graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializer=[w])
sys.stdout.buffer.write(helper.make_model(graph).SerializeToString())
`;

const app = useDashboard({ env: { CERTPRUNE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) } });

let page: Page;

beforeAll(async () => {
  page = await (await app.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
  await signIn(page, app.dashboard);
});

async function upload(file: { name: string; buffer: Buffer }, settings: { dataset?: string; eps?: string; samples?: string; mode?: string } = {}) {
  await page.goto(`${app.dashboard.url}/models/upload`);
  await page.locator("#upload-model").setInputFiles({ name: file.name, mimeType: "application/octet-stream", buffer: file.buffer });
  if (settings.dataset) await page.locator("#upload-dataset").selectOption(settings.dataset);
  if (settings.eps) await page.locator("#upload-eps").fill(settings.eps);
  if (settings.samples) await page.locator("#upload-samples").fill(settings.samples);
  if (settings.mode) await page.locator("#upload-mode").selectOption(settings.mode);
  await page.getByRole("button", { name: "Upload and verify" }).click();
}

describe("bring your own model", () => {
  it("refuses malformed, unsupported and oversized files with a message naming the problem", async () => {
    await upload({ name: "notes.onnx", buffer: Buffer.from("a text file, not an ONNX model\n".repeat(30)) }, { dataset: "synthetic" });
    const error = page.getByTestId("upload-error");
    await expect.poll(() => error.textContent()).toMatch(/^Not a valid ONNX model: /);
    await page.screenshot({ path: screenshotPath("audit-upload-malformed"), fullPage: true });

    await upload({ name: "sigmoid.onnx", buffer: pythonModel(SIGMOID) }, { dataset: "synthetic" });
    await expect.poll(() => error.textContent()).toMatch(/^Unsupported ONNX operator Sigmoid at node 1 \(squash\)/);

    // Too large: the form refuses it before sending; the server refuses it too, if sent anyway.
    const big = Buffer.alloc(300_000, 1);
    await upload({ name: "big.onnx", buffer: big }, { dataset: "synthetic" });
    await expect.poll(() => error.textContent()).toMatch(/big\.onnx is 293\.0 KiB; uploads are limited to 195\.3 KiB/);
    const form = new FormData();
    form.set("model", new Blob([big]), "big.onnx");
    form.set("dataset", "synthetic");
    form.set("samples", "4");
    const res = await fetch(`${app.dashboard.url}/api/models/upload`, { method: "POST", body: form, headers: { cookie: await sessionCookie(app.dashboard) } });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/larger than the 195\.3 KiB limit for models/);
    // Just over the limit: the body is read (within the form's allowance), the file itself refused.
    form.set("model", new Blob([Buffer.alloc(MAX_UPLOAD_BYTES + 1, 1)]), "edge.onnx");
    const edge = await fetch(`${app.dashboard.url}/api/models/upload`, { method: "POST", body: form, headers: { cookie: await sessionCookie(app.dashboard) } });
    expect(edge.status).toBe(413);
    expect((await edge.json()).error).toMatch(/^the model is 195\.3 KiB; uploads are limited to 195\.3 KiB/);
    expect((await fetch(`${app.dashboard.url}/api/models/upload`, { method: "POST", body: form })).status).toBe(401);
    await page.screenshot({ path: screenshotPath("audit-upload-oversized"), fullPage: true });
  });

  it("verifies a valid model as a run, inspects it from the file and audits it", async () => {
    const model = pythonModel(VALID);
    await upload({ name: "my-mlp.onnx", buffer: model }, { dataset: "synthetic", eps: "0.08", samples: "8", mode: "crown" });
    await page.waitForURL(/\/runs\/run_[0-9a-f]{16}$/, { timeout: 30_000 });
    const runId = page.url().split("/").pop()!;
    const cookie = await sessionCookie(app.dashboard);
    await waitFor("the uploaded model's run to finish", async () => {
      const res = await fetch(`${app.dashboard.url}/api/trpc/runs.get?input=${encodeURIComponent(JSON.stringify({ id: runId }))}`, { headers: { cookie } });
      const status = (await res.json()).result?.data?.status;
      if (status === "failed") throw new Error(`the run failed:\n${app.dashboard.output().slice(-3000)}`);
      return status === "finished";
    }, 120_000);

    await page.goto(`${app.dashboard.url}/runs/${runId}/inspect?round=0`);
    const audit = page.getByTestId("audit-summary");
    await expect.poll(() => audit.getAttribute("data-status"), { timeout: 30_000 }).toBe("passed");
    expect(await audit.textContent()).toMatch(/8 samples: clean accuracy matches \(\d+\.\d%\); (\d+ counterexamples? replayed, all valid|no counterexamples to replay)/);
    await expect.poll(() => page.getByTestId("engine-agreement").textContent()).toMatch(/match what the engine reported/);
    const rows = page.getByTestId("layer-table").locator("tbody tr");
    expect(await rows.count()).toBe(2);
    // fc1: 20 neurons, 4 zeroed by hand: 16 x 256 weights left of 20 x 256.
    expect(await rows.first().textContent()).toMatch(/fc1.*Gemm.*\[20, 256\].*4,096 \/ 5,120.*20\.0%.*16 \/ 20.*matches/);
    expect(await page.getByTestId("sparsity-chart").locator(".recharts-bar-rectangle").count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: screenshotPath("audit-inspector"), fullPage: true });

    const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-onnx").click()]);
    expect(readFileSync((await file.path())!)).toEqual(model);

    // Tamper with the engine's claim on disk: the audit, run again on the changed files, disputes it.
    const verificationFile = path.join(app.dashboard.dataDir, "runs", runId, "round_0", "verification.json");
    const verification = JSON.parse(readFileSync(verificationFile, "utf8"));
    const first = verification.results[0];
    first.status = first.status === "misclassified" ? "verified" : "misclassified";
    writeFileSync(verificationFile, JSON.stringify(verification));
    await page.reload();
    await expect.poll(() => audit.getAttribute("data-status"), { timeout: 30_000 }).toBe("disputed");
    expect(await audit.textContent()).toMatch(/Disputed: round 0.*does NOT match.*onnxruntime classifies sample\(s\) 0 differently/);
    await page.screenshot({ path: screenshotPath("audit-disputed"), fullPage: true });
  });
});
