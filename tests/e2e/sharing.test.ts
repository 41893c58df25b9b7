/**
 * A run's page as a researcher shares it and a reviewer checks it: the run page opens at a
 * round and layer from its URL (?round=&layer=) and keeps the selection there; it shows the
 * independent audit of the selected round; its Share button makes a read-only link carrying
 * that selection; a fresh browser without credentials opens the link, sees the same round,
 * layer and audit (a tampered round shown as disputed), opens the model inspector through
 * the link and downloads the ONNX file; after revoking, all of that is refused. And the
 * upload form refuses a model whose input shape is not the chosen dataset's.
 * Real engine, real SQLite, Debian's chromium; screenshots in test-results/screenshots/sharing-*.png.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunConfigInput } from "@/lib/protocol";
import { ENGINE_PYTHON, ROOT, screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const SAMPLES = 12;
const CONFIG: RunConfigInput = {
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [48, 24] },
  training: { regime: "ibp", epochs: 2, eps: 0.02, epsStart: 1, epsLength: 1 },
  pruning: { method: "imp", rounds: 2, scope: "conv-linear", rate: 0.5 },
  verification: { mode: "crown", eps: 0.02, samples: SAMPLES, timeout: 2, pgdSteps: 10, pgdRestarts: 2, attackSamples: 100 },
};

const app = useDashboard();

let owner: BrowserContext;
let page: Page;
let visitorContext: BrowserContext;
let visitor: Page;
let cookie = "";
let runId = "";
let shareUrl = "";
let layer = "";

const attr = async (p: Page, testId: string, name: string) => (await p.getByTestId(testId).first().getAttribute(name)) ?? "";

beforeAll(async () => {
  owner = await app.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page = await owner.newPage();
  await signIn(page, app.dashboard);
  cookie = await sessionCookie(app.dashboard);
  const res = await fetch(`${app.dashboard.url}/api/trpc/runs.create`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ config: CONFIG, label: "sharing journey" }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`runs.create failed: ${JSON.stringify(body)}`);
  runId = body.result.data.id;
  await waitFor("the run to finish", async () => {
    const got = await fetch(`${app.dashboard.url}/api/trpc/runs.get?input=${encodeURIComponent(JSON.stringify({ id: runId }))}`, { headers: { cookie } });
    const status = (await got.json()).result?.data?.status;
    if (status === "failed" || status === "cancelled") throw new Error(`the run ${status}:\n${app.dashboard.output().slice(-3000)}`);
    return status === "finished";
  }, 240_000);
});

describe("sharing a run, with its audit and its models", () => {
  it("opens the run page at the round and layer of its URL, shows that round's audit, and keeps the selection in the URL", async () => {
    // Which layers the stability histograms can show: take the last one (not the default first).
    await page.goto(`${app.dashboard.url}/runs/${runId}`);
    await page.getByTestId("stability-layer").waitFor();
    const layers = await page.getByTestId("stability-layer").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(layers.length).toBeGreaterThanOrEqual(2);
    layer = layers.at(-1)!;
    // Without a query the page follows the newest round.
    await expect.poll(() => attr(page, "audit-panel", "data-round"), { timeout: 15_000 }).toBe("2");

    await page.goto(`${app.dashboard.url}/runs/${runId}?round=1&layer=${layer}`);
    await page.getByTestId("histogram-chart").waitFor();
    await expect.poll(() => attr(page, "stability-section", "data-round"), { timeout: 15_000 }).toBe("1");
    expect(await attr(page, "histogram-chart", "data-layer")).toBe(layer);
    expect(await attr(page, "sample-grid-section", "data-round")).toBe("1");
    expect(await attr(page, "audit-panel", "data-round")).toBe("1");
    expect(await page.getByTestId("audit-round").inputValue()).toBe("1");
    const audit = page.getByTestId("audit-summary");
    await expect.poll(() => audit.getAttribute("data-status"), { timeout: 60_000 }).toBe("passed");
    expect(await audit.textContent()).toMatch(
      new RegExp(`^Audit passed: round 1${SAMPLES} samples: clean accuracy matches \\(\\d+\\.\\d%\\); (\\d+ counterexamples? replayed, all valid|no counterexamples to replay)\\.`),
    );
    await page.getByTestId("audit-panel").scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath("sharing-runpage-round1"), fullPage: true });

    // One selection for the page: choosing round 2 anywhere moves every section, and the URL.
    await page.getByTestId("samples-round").selectOption("2");
    await page.waitForURL((url) => url.search === `?round=2&layer=${layer}`);
    await expect.poll(() => attr(page, "audit-panel", "data-round"), { timeout: 15_000 }).toBe("2");
    expect(await attr(page, "stability-section", "data-round")).toBe("2");
    expect(await page.getByTestId("sparsity-round").inputValue()).toBe("2");
    await expect.poll(() => page.getByTestId("audit-summary").getAttribute("data-status"), { timeout: 60_000 }).toBe("passed");
    await page.getByTestId("audit-round").selectOption("1");
    await page.waitForURL((url) => url.search === `?round=1&layer=${layer}`);
    expect(await attr(page, "sample-grid-section", "data-round")).toBe("1");
    // A reload opens where the page was left.
    await page.reload();
    await expect.poll(() => attr(page, "stability-section", "data-round"), { timeout: 15_000 }).toBe("1");
    expect(await attr(page, "histogram-chart", "data-layer")).toBe(layer);
  });

  it("shares the run with its Share button; a fresh browser without credentials sees the same round, layer and audit", async () => {
    const share = page.getByTestId("run-share");
    await share.getByRole("button", { name: "Share" }).click();
    shareUrl = await page.getByTestId("share-url").inputValue();
    expect(shareUrl).toMatch(new RegExp(`^${app.dashboard.url}/share/[A-Za-z0-9_-]{43}$`));
    await page.screenshot({ path: screenshotPath("sharing-share-button"), fullPage: false });

    visitorContext = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    expect(await visitorContext.cookies()).toEqual([]);
    visitor = await visitorContext.newPage();
    await visitor.goto(shareUrl);
    await visitor.getByTestId("shared-run").waitFor();
    // The run's events stream in through the link: the saved round shows once it has arrived.
    await expect.poll(() => attr(visitor, "stability-section", "data-round"), { timeout: 15_000 }).toBe("1");
    expect(await attr(visitor, "histogram-chart", "data-layer")).toBe(layer);
    expect(await attr(visitor, "audit-panel", "data-round")).toBe("1");
    const audit = visitor.getByTestId("audit-summary");
    await expect.poll(() => audit.getAttribute("data-status"), { timeout: 60_000 }).toBe("passed");
    expect(await audit.textContent()).toMatch(new RegExp(`^Audit passed: round 1${SAMPLES} samples: clean accuracy matches`));
    // Read-only: nothing to share, cancel or launch.
    expect(await visitor.getByTestId("run-share").count()).toBe(0);
    for (const name of [/share/i, /cancel/i, /launch/i, /delete/i]) expect(await visitor.getByRole("button", { name }).count()).toBe(0);
    await visitor.getByTestId("audit-panel").scrollIntoViewIfNeeded();
    await visitor.screenshot({ path: screenshotPath("sharing-shared-run"), fullPage: true });

    // A round whose engine claims are tampered with on disk is shown as disputed, loudly, to the reviewer too.
    const verificationFile = path.join(app.dashboard.dataDir, "runs", runId, "round_2", "verification.json");
    const verification = JSON.parse(readFileSync(verificationFile, "utf8"));
    const first = verification.results[0];
    first.status = first.status === "misclassified" ? "verified" : "misclassified";
    writeFileSync(verificationFile, JSON.stringify(verification));
    await visitor.getByTestId("audit-round").selectOption("2");
    await expect.poll(() => visitor.getByTestId("audit-summary").getAttribute("data-status"), { timeout: 60_000 }).toBe("disputed");
    expect(await visitor.getByTestId("audit-summary").textContent()).toMatch(/^Disputed: round 2.*does NOT match/);
    expect(await visitor.getByRole("alert").filter({ hasText: "Disputed" }).count()).toBe(1);
    await visitor.getByTestId("audit-panel").scrollIntoViewIfNeeded();
    await visitor.screenshot({ path: screenshotPath("sharing-shared-disputed"), fullPage: false });
    await visitor.getByTestId("audit-round").selectOption("1");
  });

  it("opens the model inspector through the link, read-only, with the ONNX download", async () => {
    await visitor.getByTestId("inspect-link").click();
    await visitor.waitForURL((url) => url.pathname.endsWith("/inspect") && url.search === "?round=1");
    const inspector = visitor.getByTestId("model-inspector");
    await inspector.waitFor();
    expect(await inspector.getAttribute("data-round")).toBe("1");
    await expect.poll(() => visitor.getByTestId("engine-agreement").textContent()).toMatch(/match what the engine reported for round 1/);
    expect(await visitor.getByTestId("layer-table").locator("tbody tr").count()).toBe(3); // fc1, fc2, the output layer
    await expect.poll(() => visitor.getByTestId("audit-summary").getAttribute("data-status"), { timeout: 60_000 }).toBe("passed");
    await visitor.screenshot({ path: screenshotPath("sharing-shared-inspector"), fullPage: true });

    const [file] = await Promise.all([visitor.waitForEvent("download"), visitor.getByTestId("download-onnx").click()]);
    expect(readFileSync((await file.path())!)).toEqual(readFileSync(path.join(app.dashboard.dataDir, "runs", runId, "round_1", "model.onnx")));
    // Other rounds through the link; and back to the shared run page.
    await visitor.getByRole("navigation", { name: "Round" }).getByRole("link", { name: "0", exact: true }).click();
    await expect.poll(() => inspector.getAttribute("data-round")).toBe("0");
    await visitor.getByTestId("inspect-run-link").click();
    await visitor.getByTestId("shared-run").waitFor();
    await expect.poll(() => attr(visitor, "audit-panel", "data-round"), { timeout: 15_000 }).toBe("0");
  });

  it("refuses the shared page, the inspector, the audit and the download once the link is revoked", async () => {
    const token = shareUrl.split("/").pop()!;
    await page.goto(`${app.dashboard.url}/shares`);
    await page.getByRole("button", { name: /^Revoke/ }).first().click();
    await page.getByTestId("share-list").locator(".badge.cancelled").waitFor();

    expect((await visitor.goto(`${shareUrl}/inspect?round=1`))!.status()).toBe(403);
    await visitor.getByTestId("share-refused").waitFor();
    expect(await visitor.getByTestId("share-refused").textContent()).toMatch(/This link was revoked/);
    expect(await visitor.getByTestId("model-inspector").count()).toBe(0);
    await visitor.screenshot({ path: screenshotPath("sharing-inspector-revoked"), fullPage: true });
    expect((await visitor.goto(shareUrl))!.status()).toBe(403);
    await visitor.getByTestId("share-refused").waitFor();

    const download = await fetch(`${app.dashboard.url}/api/models/download?runId=${runId}&round=1&token=${token}`);
    expect(download.status).toBe(403);
    for (const procedure of ["models.audit", "models.inspect"]) {
      const res = await fetch(`${app.dashboard.url}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ runId, round: 1, token }))}`);
      expect(res.status).toBe(403);
      expect((await res.json()).error.message).toMatch(/revoked/);
    }
    // Signed in, the researcher still reads everything.
    expect((await fetch(`${app.dashboard.url}/api/models/download?runId=${runId}&round=1`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses an uploaded model whose input shape is not the chosen dataset's, naming both shapes", async () => {
    const done = spawnSync(ENGINE_PYTHON, ["-c", `
import sys, tempfile, torch
from certprune.data import dataset_info
from certprune.models import build_model
from certprune.onnx_io import export_onnx
info = dataset_info("synthetic")
model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, [16]).eval()
path = tempfile.mktemp(suffix=".onnx")
export_onnx(model, info.input_shape, path)
sys.stdout.buffer.write(open(path, "rb").read())
`], { cwd: path.join(ROOT, "engine"), maxBuffer: 1 << 24 });
    if (done.status !== 0) throw new Error(`writing a model failed:\n${done.stderr}`);
    await page.goto(`${app.dashboard.url}/models/upload`);
    await page.locator("#upload-model").setInputFiles({ name: "synthetic-mlp.onnx", mimeType: "application/octet-stream", buffer: done.stdout });
    await page.locator("#upload-dataset").selectOption("fashion-mnist");
    await page.locator("#upload-samples").fill("4");
    await page.getByRole("button", { name: "Upload and verify" }).click();
    const error = page.getByTestId("upload-error");
    await expect.poll(() => error.textContent()).toBe(
      "The model takes inputs of shape 1x16x16 but FashionMNIST images are 1x28x28 (channels x height x width): choose the dataset the model was trained on (1x16x16 is the synthetic dataset).",
    );
    expect(await page.locator(".field.invalid").textContent()).toMatch(/FashionMNIST is 1x28x28; the model takes 1x16x16/);
    expect(page.url()).toBe(`${app.dashboard.url}/models/upload`);
    await page.screenshot({ path: screenshotPath("sharing-upload-wrong-shape"), fullPage: true });
  });
});
