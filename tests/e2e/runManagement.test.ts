/**
 * Run management as a researcher meets it in Chromium (issue 17): readable error pages;
 * the settings panel; names, tags and notes, searchable from the runs table with the
 * filters in the URL; relaunch with edits; the queue view with two runs waiting, and the
 * launch estimate that counts them; live progress inside an epoch; cancel, retry and
 * delete with confirmation; an uploaded model's run labelled as such. One engine at a time
 * (CERTPRUNE_MAX_RUNS=1), so runs really queue. Screenshots go to /tmp/shots/.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ENGINE_PYTHON, ROOT, sessionCookie, signIn, trpcCall, waitFor } from "../harness";
import { useDashboard } from "./session";

const SHOTS = "/tmp/shots";
const app = useDashboard({ env: { CERTPRUNE_MAX_RUNS: "1", CERTPRUNE_THREADS: "1" } });
let page: Page;
let cookie = "";
let firstRun = "";

const shot = async (name: string) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};

const api = <T>(procedure: string, input: unknown, method: "GET" | "POST" = "POST") =>
  trpcCall<T>(app.dashboard, cookie, procedure, input, method);
const statusOf = async (id: string) => (await api<{ status: string }>("runs.get", { id }, "GET")).status;
const runIdOfPage = () => new URL(page.url()).pathname.split("/").pop()!;

const SMOKE = {
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 3, epsStart: 1, epsLength: 0 },
  pruning: { method: "none", rounds: 0 },
  verification: { mode: "none", samples: 0 },
};
/**
 * Holds the only engine slot while the test looks at the queue, with epochs of several seconds
 * (cnn7 under CROWN-IBP, one thread), so that the engine reports progress inside them.
 */
// cnn7: an epoch of CROWN-IBP takes several seconds even on a fast, quiet machine, longer
// than the engine's 2 s progress interval (cnn4's took about 1 s and sent no progress inside it).
const LONG = { ...SMOKE, model: { arch: "cnn7" }, training: { regime: "crown-ibp", epochs: 1000, epsStart: 1, epsLength: 100 } };

beforeAll(async () => {
  page = await (await app.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, app.dashboard);
  cookie = await sessionCookie(app.dashboard);
});

describe("run management", () => {
  it("answers unknown pages, runs and inspector addresses with readable pages at once", async () => {
    const missing = await page.goto(`${app.dashboard.url}/no/such/page`);
    expect(missing!.status()).toBe(404);
    expect(await page.getByTestId("not-found").textContent()).toMatch(/Nothing here.*no page at this address/);
    await shot("error-not-found");

    const run = await page.goto(`${app.dashboard.url}/runs/run_0000000000000000`);
    expect(run!.status()).toBe(404);
    expect(await page.getByTestId("run-not-found").textContent()).toMatch(/No such run.*deleted.*mistyped/);
    await shot("error-run-not-found");

    const t0 = Date.now();
    const inspect = await page.goto(`${app.dashboard.url}/runs/run_0000000000000000/inspect?round=0`);
    expect(inspect!.status()).toBe(404);
    await page.getByTestId("run-not-found").waitFor({ timeout: 3000 });
    expect(Date.now() - t0).toBeLessThan(5000); // no rounds of retries
    expect(await page.locator("body").textContent()).not.toMatch(/"code"|invalid_|\[\{/); // no raw validation JSON
    await shot("error-inspect-unknown-run");

    await page.goto(`${app.dashboard.url}/runs/new?from=run_0000000000000000`);
    expect(await page.getByTestId("relaunch-missing").textContent()).toMatch(/no run .* to start from/);
  });

  it("launches a run, shows its settings, and takes a name, tags and notes the runs table searches", async () => {
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.getByRole("button", { name: "Synthetic smoke test" }).click();
    // Fields that do not apply are hidden: MLP widths only with an MLP.
    expect(await page.getByLabel("MLP widths").count()).toBe(1);
    await page.getByLabel("Model", { exact: true }).selectOption("cnn4");
    expect(await page.getByLabel("MLP widths").count()).toBe(0);
    await page.getByLabel("Model", { exact: true }).selectOption("mlp");
    expect(await page.locator("#field-training-epochs-help").textContent()).toMatch(/Paper: 200/);
    await shot("launch-form-help");
    await page.getByRole("button", { name: "Launch run" }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-f]{16}$/);
    firstRun = runIdOfPage();
    await expect.poll(() => page.getByTestId("run-status").first().textContent(), { timeout: 120_000 }).toBe("finished");

    const settings = page.getByTestId("settings-panel");
    expect(await settings.locator('[data-group="training"] tr[data-differs]').first().textContent()).toMatch(/regime\s*natural\s*default crown-ibp/);
    expect(await settings.locator('[data-group="model"]').textContent()).toMatch(/widths/);
    // The engine's resolved plan (its started event).
    expect(await page.getByTestId("run-plan").textContent()).toMatch(/epochs per round\s*4/);
    expect(await page.getByTestId("engine-log").locator("[data-phase]").count()).toBeGreaterThan(0);

    await page.getByTestId("edit-notes").click();
    await page.getByLabel("Name", { exact: true }).fill("smoke baseline");
    await page.getByLabel("Tags", { exact: true }).fill("baseline, not/ok");
    await page.getByLabel("Notes", { exact: true }).fill("first look at the learning rate");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByTestId("error-tags").textContent()).toMatch(/letters, digits/);
    await shot("notes-bad-tag");
    await page.getByLabel("Tags", { exact: true }).fill("baseline, smoke");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByTestId("run-tag").allTextContents()).toEqual(["baseline", "smoke"]);
    expect(await page.locator("h1").first().textContent()).toBe("smoke baseline");
    expect(await page.getByTestId("run-notes-text").textContent()).toBe("first look at the learning rate");
    await shot("run-settings-and-notes");

    // A second run, so that the search has something to leave out.
    await api("runs.create", { config: { ...SMOKE, seed: 7 }, label: "other" });
    await page.goto(app.dashboard.url);
    const table = page.getByTestId("runs-table");
    await expect.poll(() => table.locator("tr.run-row").count()).toBe(2);
    await page.getByLabel("Search runs").fill("#baseline");
    await expect.poll(() => table.locator("tr.run-row").count()).toBe(1);
    expect(await table.locator("tr.run-row").textContent()).toMatch(/smoke baseline/);
    await page.getByLabel("Search runs").fill("learning rate");
    await expect.poll(() => table.locator("tr.run-row").count()).toBe(1);
    // The filter is in the URL: a reload (or a copied link) opens the same table.
    expect(new URL(page.url()).searchParams.get("q")).toBe("learning rate");
    await page.reload();
    await expect.poll(() => table.locator("tr.run-row").count()).toBe(1);
    expect(await page.getByLabel("Search runs").inputValue()).toBe("learning rate");
    // The column chooser hides a column, and the URL keeps that too.
    await page.getByText("Columns", { exact: true }).click();
    await page.getByRole("group", { name: "Columns shown" }).getByLabel("Seed").uncheck();
    expect(new URL(page.url()).searchParams.get("hide")).toBe("seed");
    expect(await table.locator("th").allTextContents()).not.toContain("Seed");
    expect(await table.locator("th").allTextContents()).toContain("Duration");
    await shot("runs-search-notes");
  });

  it("explains an inspector round that does not exist", async () => {
    await page.goto(`${app.dashboard.url}/runs/${firstRun}/inspect?round=3`);
    expect(await page.getByTestId("inspect-missing").textContent()).toMatch(/has 1 round \(0 to 0\); there is no round 3/);
    await shot("inspect-missing-round");
  });

  it("relaunches with edits: the form opens with the run's settings, and the edit makes a new run", async () => {
    await page.goto(`${app.dashboard.url}/runs/${firstRun}`);
    await page.getByTestId("relaunch").click();
    await page.waitForURL(/\/runs\/new\?from=run_/);
    expect(await page.getByLabel("Epochs per round").inputValue()).toBe("4");
    expect(await page.locator("h1").textContent()).toBe("Launch again with edits");
    await page.getByLabel("Epochs per round").fill("6");
    await shot("relaunch-form");
    await page.getByRole("button", { name: "Launch run" }).click();
    await page.waitForURL((url) => /\/runs\/run_[0-9a-f]{16}$/.test(url.pathname) && !url.pathname.endsWith(firstRun));
    const settings = page.getByTestId("settings-panel");
    await expect.poll(() => settings.locator('[data-group="training"] tr[data-differs]').allTextContents()).toContainEqual(expect.stringMatching(/^epochs\s*6\s*default 200$/));
    await expect.poll(() => page.getByTestId("run-status").first().textContent(), { timeout: 120_000 }).toBe("finished");
  });

  let running = "";
  let waiting: string[] = [];

  it("shows the queue with two runs waiting, counts them in the launch estimate, and streams progress inside an epoch", async () => {
    running = (await api<{ id: string }>("runs.create", { config: LONG, label: "long run" })).id;
    await waitFor("the long run to start", async () => (await statusOf(running)) === "running");
    waiting = [
      (await api<{ id: string }>("runs.create", { config: { ...LONG, seed: 1 }, label: "waiting one" })).id,
      (await api<{ id: string }>("runs.create", { config: { ...LONG, seed: 2 }, label: "waiting two" })).id,
    ];
    await page.goto(`${app.dashboard.url}/queue`);
    const queue = page.getByTestId("queue");
    await expect.poll(() => queue.getAttribute("data-queued")).toBe("2");
    expect(await queue.getAttribute("data-running")).toBe("1");
    const rows = page.getByTestId("queue-waiting").locator("tbody tr");
    expect(await rows.allTextContents()).toEqual([expect.stringMatching(/^1waiting one/), expect.stringMatching(/^2waiting two/)]);
    expect(await page.getByTestId("queue-running").textContent()).toMatch(/long run/);
    await shot("queue-two-waiting");

    await page.goto(`${app.dashboard.url}/runs/new`);
    await expect.poll(() => page.getByTestId("estimate-queue").textContent()).toMatch(/3 runs ahead/);
    expect(Number(await page.getByTestId("estimate-queue").getAttribute("data-wait"))).toBeGreaterThan(0);
    await shot("launch-estimate-queue");

    await page.goto(`${app.dashboard.url}/runs/${waiting[1]}`);
    await expect.poll(() => page.getByTestId("queue-position").textContent()).toMatch(/Position 2 in the queue.*Ahead of it: long run \(running\), waiting one/);
    await shot("run-queued-position");

    // The running run's page: progress inside the epoch (the engine's progress events, not stored) and an ETA.
    await page.goto(`${app.dashboard.url}/runs/${running}`);
    await expect.poll(() => page.getByTestId("progress-phase").textContent(), { timeout: 60_000 }).toMatch(/batch \d+ of \d+/);
    await page.getByTestId("eta").waitFor();
    await shot("run-live-progress");
  });

  it("cancels and retries a queued run, each after confirmation", async () => {
    const id = waiting[0];
    await page.goto(`${app.dashboard.url}/runs/${id}`);
    await page.getByTestId("cancel").click();
    await page.getByRole("button", { name: "Keep running" }).click(); // changed mind: nothing happens
    expect(await statusOf(id)).toBe("queued");
    await page.getByTestId("cancel").click();
    await shot("cancel-confirm");
    await page.getByRole("button", { name: "Yes, cancel the run" }).click();
    await expect.poll(() => page.getByTestId("run-status").first().textContent()).toBe("cancelled");
    expect(await statusOf(id)).toBe("cancelled");

    await page.getByTestId("retry").click();
    await page.getByRole("button", { name: "Yes, retry" }).click();
    await expect.poll(() => statusOf(id)).toBe("queued");
    await expect.poll(() => page.getByTestId("run-status").first().textContent()).toBe("queued");
    await shot("retried");
  });

  it("deletes a run after confirmation; its page then says it is gone", async () => {
    const id = waiting[1];
    await page.goto(`${app.dashboard.url}/runs/${id}`);
    await page.getByTestId("delete").click();
    expect(await page.getByTestId("delete-confirm").textContent()).toMatch(/cannot be undone/);
    await shot("delete-confirm");
    await page.getByRole("button", { name: "Yes, delete it" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await expect.poll(() => page.getByTestId("runs-table").locator(`tr[data-run="${id}"]`).count()).toBe(0);
    const gone = await page.goto(`${app.dashboard.url}/runs/${id}`);
    expect(gone!.status()).toBe(404);
    // Free the engine for the upload below.
    for (const other of [waiting[0], running]) await api("runs.cancel", { id: other });
  });

  it("labels an uploaded model's run as an uploaded model, not as training", async () => {
    const model = spawnSync(ENGINE_PYTHON, ["-c", `
import sys, tempfile, torch
from certprune.data import dataset_info
from certprune.models import build_model
from certprune.onnx_io import export_onnx
info = dataset_info("synthetic")
torch.manual_seed(5)
model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, [20]).eval()
path = tempfile.mktemp(suffix=".onnx")
export_onnx(model, info.input_shape, path)
sys.stdout.buffer.write(open(path, "rb").read())
`], { cwd: path.join(ROOT, "engine"), maxBuffer: 1 << 24 });
    expect(model.status).toBe(0);
    await page.goto(`${app.dashboard.url}/models/upload`);
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Upload a model" }).getAttribute("aria-current")).toBe("page");
    await page.locator("#upload-model").setInputFiles({ name: "mine.onnx", mimeType: "application/octet-stream", buffer: model.stdout });
    await page.locator("#upload-dataset").selectOption("synthetic");
    await page.locator("#upload-samples").fill("6");
    await page.locator("#upload-mode").selectOption("crown");
    await page.getByRole("button", { name: "Upload and verify" }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-f]{16}$/, { timeout: 30_000 });
    const id = runIdOfPage();
    await expect.poll(() => page.getByTestId("run-status").first().textContent(), { timeout: 120_000 }).toBe("finished");
    expect(await page.getByTestId("run-kind").textContent()).toBe("uploaded model");
    const text = await page.getByTestId("run-page").textContent();
    expect(text).not.toMatch(/training regime|Waiting for the first epoch/);
    expect(await page.getByTestId("no-training").textContent()).toMatch(/uploaded model is verified as it is/);
    expect(await page.getByTestId("settings-panel").locator('[data-group="training"]').textContent()).toMatch(/Not used: an uploaded model/);
    // One round: nothing to test the best round against (not "every other round differs").
    expect(await page.getByTestId("best-round-note").textContent()).toMatch(/only verified round, so there is nothing to compare it with/);
    await shot("upload-run");

    await page.goto(app.dashboard.url);
    const row = page.getByTestId("runs-table").locator(`tr[data-run="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/uploaded model/);
    expect(await row.textContent()).not.toMatch(/crown-ibp|Dense/);
    await shot("runs-with-upload");
  });
});
