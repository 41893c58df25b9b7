/**
 * One dashboard and one Chromium per test file: `const app = useDashboard()` at the top
 * of the file starts both before its tests and stops them after; the tests read
 * `app.dashboard` and `app.browser`; `app.restart()` stops the dashboard (with a signal of
 * the test's choosing) and starts it again on the same data directory and settings.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchBrowser, startDashboard, type Dashboard, type DashboardOptions } from "../harness";

export interface Session {
  readonly dashboard: Dashboard;
  readonly browser: Browser;
  restart(signal?: NodeJS.Signals): Promise<Dashboard>;
}

export function useDashboard(options: DashboardOptions = {}): Session {
  let dashboard: Dashboard | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    dashboard = await startDashboard(options);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
  });
  const started = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${what} is not started yet: read it inside a test or a hook`);
    return value;
  };
  return {
    get dashboard() {
      return started("dashboard", dashboard);
    },
    get browser() {
      return started("browser", browser);
    },
    async restart(signal?: NodeJS.Signals) {
      const before = started("dashboard", dashboard);
      await before.stop(signal);
      dashboard = await startDashboard({ ...options, dataDir: before.dataDir });
      return dashboard;
    },
  };
}
