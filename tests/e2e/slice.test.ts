/**
 * The first slice, as a researcher meets it: launch from the form, watch the run live,
 * reload mid-run without losing anything, restart the server and find it all still there.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const EPOCHS = 60;
const app = useDashboard();

const chartPoints = async (page: Page) => Number((await page.getByTestId("training-chart").getAttribute("data-points")) ?? 0);

describe("launch and watch a run", () => {
  let runUrl = "";

  it("launches from the form, survives a reload mid-run, and reaches 100%", async () => {
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, app.dashboard);
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.getByRole("button", { name: "Synthetic smoke test" }).click();
    await page.getByLabel("Epochs per round").fill(String(EPOCHS));
    await page.screenshot({ path: screenshotPath("launch-form"), fullPage: true });
    await page.getByRole("button", { name: "Launch run" }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-f]{16}$/);
    runUrl = page.url();

    // The chart grows as epochs arrive.
    await waitFor("the first epochs on the chart", async () => (await page.getByTestId("training-chart").count()) > 0 && (await chartPoints(page)) >= 3, 90_000);
    const before = await chartPoints(page);
    expect(before).toBeLessThan(EPOCHS); // still running: the reload below happens mid-run

    await page.reload();
    await waitFor("the chart after the reload", async () => (await page.getByTestId("training-chart").count()) > 0 && (await chartPoints(page)) >= before);

    await waitFor("the progress bar at 100%", async () =>
      (await page.getByRole("progressbar", { name: "run progress" }).getAttribute("aria-valuenow")) === "100", 120_000);
    await expect.poll(() => page.getByTestId("run-status").textContent()).toBe("finished");
    // No gap: every epoch of the run is on the chart, once.
    expect(await chartPoints(page)).toBe(EPOCHS);
    await page.screenshot({ path: screenshotPath("run-finished"), fullPage: true });

    // The overview lists it as finished.
    await page.goto(app.dashboard.url);
    await expect.poll(() => page.getByTestId("runs-table").getByTestId("run-status").first().textContent()).toBe("finished");
    await page.screenshot({ path: screenshotPath("runs-overview"), fullPage: true });
    await page.close();
  });

  it("keeps the finished run and its chart across a server restart", async () => {
    await app.restart();
    const page = await app.browser.newPage();
    await signIn(page, app.dashboard);
    await page.goto(runUrl.replace(/^http:\/\/[^/]+/, app.dashboard.url));
    await waitFor("the stored chart", async () => (await page.getByTestId("training-chart").count()) > 0 && (await chartPoints(page)) === EPOCHS);
    expect(await page.getByTestId("run-status").textContent()).toBe("finished");
    await page.close();
  });

  it("shows the server's field-level messages for invalid settings and launches nothing", async () => {
    const page = await app.browser.newPage();
    await signIn(page, app.dashboard);
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.getByLabel("Epochs per round").fill("0");
    await page.getByLabel("Timeout per sample (s)").fill("-5");
    await page.getByRole("button", { name: "Launch run" }).click();
    await expect.poll(() => page.getByTestId("error-training.epochs").textContent()).toMatch(/>=\s*1/);
    expect(await page.getByTestId("error-verification.timeout").textContent()).toMatch(/>\s*0|positive/i);
    expect(page.url()).toMatch(/\/runs\/new$/);
    await page.screenshot({ path: screenshotPath("launch-form-errors"), fullPage: true });
    const list = await (await fetch(`${app.dashboard.url}/api/trpc/runs.list`, { headers: { cookie: await sessionCookie(app.dashboard) } })).json();
    expect(list.result.data).toHaveLength(1);
    await page.close();
  });
});
