/**
 * Cross-site requests (CSRF) are refused on every mutating route: the HTTP entries are
 * called as Next.js calls them, with the test's services as the process's.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { POST as upload } from "@/app/api/models/upload/route";
import { GET as trpcGet, POST as trpcPost } from "@/app/api/trpc/[trpc]/route";
import { researcher, SMOKE_CONFIG, testServices } from "../testing";
import { crossSiteRefusal } from "./origin";

let services: ReturnType<typeof testServices>;
const KEY = Symbol.for("certprune.services");
afterEach(async () => {
  delete (globalThis as Record<symbol, unknown>)[KEY];
  await services?.cleanup();
});

/** Test services as the process's (what getServices() returns), and a signed-in cookie. */
function serve(env: Record<string, string> = {}) {
  services = testServices(env);
  (globalThis as Record<symbol, unknown>)[KEY] = services;
  const { token } = services.accounts.createSession(researcher(services, "alice").id);
  return `certprune_session=${token}`;
}

const BASE = "http://dash.example:3000";

describe("the cross-site rule", () => {
  const req = (headers: Record<string, string>, url = `${BASE}/api/trpc/runs.create`) => new Request(url, { method: "POST", headers });
  it("allows same-origin pages and clients that are not browsers, refuses other sites", () => {
    expect(crossSiteRefusal(req({}))).toBeNull();
    expect(crossSiteRefusal(req({ "sec-fetch-site": "same-origin", origin: BASE }))).toBeNull();
    expect(crossSiteRefusal(req({ origin: BASE, host: "dash.example:3000" }))).toBeNull();
    expect(crossSiteRefusal(req({ origin: "https://certprune.example", "x-forwarded-host": "certprune.example", "x-forwarded-proto": "https" }, "http://127.0.0.1:3000/api/trpc/x"))).toBeNull();
    expect(crossSiteRefusal(req({ origin: "https://lab.example" }), ["https://lab.example"])).toBeNull();
    for (const headers of [
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" } as Record<string, string>,
      { "sec-fetch-site": "same-site", origin: "http://other.dash.example:3000" },
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "http://dash.example:3001" },
    ]) {
      expect([headers, crossSiteRefusal(req(headers))]).toEqual([headers, expect.stringMatching(/^refused a .*this dashboard's own pages/)]);
    }
  });
});

describe("mutating routes", () => {
  it("refuse a cross-site tRPC mutation with 403 before running it; same-origin and non-browser calls work", async () => {
    const cookie = serve();
    const create = (headers: Record<string, string>) =>
      trpcPost(new Request(`${BASE}/api/trpc/runs.create`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body: JSON.stringify({ config: SMOKE_CONFIG }) }));
    for (const headers of [{ "sec-fetch-site": "cross-site", origin: "https://evil.example" }, { origin: "https://evil.example" }] as Record<string, string>[]) {
      const res = await create(headers);
      expect(res.status).toBe(403);
      expect((await res.json()).error.message).toMatch(/^refused a .*this dashboard.s own pages/);
    }
    expect(services.runs.list()).toEqual([]);
    expect((await create({ "sec-fetch-site": "same-origin", origin: BASE })).status).toBe(200);
    expect((await create({})).status).toBe(200); // curl, scripts
    // Reads by GET are not mutations and are not checked.
    const read = await trpcGet(new Request(`${BASE}/api/trpc/runs.list`, { headers: { cookie, "sec-fetch-site": "cross-site" } }));
    expect(read.status).toBe(200);
  });

  it("refuse a cross-site model upload (a multipart form needs no preflight) with 403, writing nothing", async () => {
    const cookie = serve();
    const form = new FormData();
    form.set("model", new File([new Uint8Array([1, 2, 3])], "m.onnx"));
    form.set("dataset", "mnist");
    form.set("samples", "1");
    const send = (headers: Record<string, string>) => upload(new Request(`${BASE}/api/models/upload`, { method: "POST", headers: { cookie, ...headers }, body: form }));
    const refused = await send({ "sec-fetch-site": "cross-site", origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatch(/refused a cross-site request/);
    expect(existsSync(path.join(services.settings.dataDir, "uploads"))).toBe(false);
    // From the dashboard's own page the same form gets as far as checking the file.
    const checked = await send({ "sec-fetch-site": "same-origin", origin: BASE });
    expect([checked.status, (await checked.json()).error]).toEqual([400, expect.stringMatching(/not a valid ONNX model|check the highlighted settings/)]);
  });
});
