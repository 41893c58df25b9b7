/**
 * The audit and the inspector against real models: a tiny run of the real engine (IMP, one
 * pruning round, CROWN on 10 samples), audited with onnxruntime; then copies of its files
 * with a counterexample moved out of its box and a tampered accuracy, which must be caught.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventOf, RunConfigInput } from "@/lib/protocol";
import { callerFor, testServices, waitForStatus } from "../testing";
import { auditRound, BOX_TOLERANCE } from "./audit";
import { inspectOnnx } from "../models/inspect";

export const AUDITED_CONFIG: RunConfigInput = {
  data: { dataset: "synthetic", augment: false },
  model: { arch: "mlp", widths: [32, 32] },
  training: { regime: "natural", epochs: 2, epsStart: 1, epsLength: 0 },
  pruning: { method: "imp", rounds: 1, scope: "conv-linear" },
  verification: { mode: "crown", samples: 10, eps: 0.1, timeout: 20, pgdSteps: 20, pgdRestarts: 2, attackSamples: 20 },
  device: "cpu",
};

let services: ReturnType<typeof testServices>;
let runId: string;
let runDir: string;
let finished: EventOf<"round_finished">[];
const scratch = mkdtempSync(path.join(os.tmpdir(), "certprune-audit-"));

beforeAll(async () => {
  services = testServices();
  const { id } = await callerFor(services).runs.create({ config: AUDITED_CONFIG as never });
  runId = id;
  const run = await waitForStatus(services, id, ["finished", "failed"], 110_000);
  expect(run.error).toBeNull();
  runDir = services.runner.runDir(id);
  finished = services.runs.eventsAfter(id, 0, ["round_finished"]).map((s) => s.event as EventOf<"round_finished">);
}, 120_000);

afterAll(async () => {
  await services?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the run's files to tamper with. */
function copyRun(name: string): string {
  const dir = path.join(scratch, name);
  cpSync(runDir, dir, { recursive: true });
  return dir;
}
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8"));
const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value));

describe("the audit of an honest run", () => {
  it("passes every round: clean accuracy matches and every counterexample replays", async () => {
    const caller = callerFor(services);
    expect(finished.map((e) => e.round)).toEqual([0, 1]);
    for (const event of finished) {
      const audit = await caller.models.audit({ runId, round: event.round });
      expect(audit.state).toBe("ready");
      if (audit.state !== "ready") return;
      const { result } = audit;
      expect(result.problems).toEqual([]);
      expect(result.status).toBe("passed");
      expect(result.samples).toBe(10);
      expect(result.cleanAccuracy.audit).toBeCloseTo((event.samples - event.misclassified) / event.samples, 12);
      expect(result.counterexamples.claimed).toBe(event.falsified);
      expect(result.counterexamples.valid).toBe(event.falsified);
    }
    // The run's settings make PGD find counterexamples: the replay is exercised, not skipped.
    expect(finished.some((e) => e.falsified > 0)).toBe(true);
    const all = await caller.models.audits({ runId });
    expect(all.map((a) => (a.state === "ready" ? a.result.status : a.state))).toEqual(["passed", "passed"]);
  });

  it("is readable through a share link naming the run, and refused without one", async () => {
    const anonymous = callerFor(services, null);
    await expect(anonymous.models.audit({ runId, round: 0 })).rejects.toThrow(/sign in first/);
    const { token } = await callerFor(services).shares.create({ kind: "run", runId });
    const audit = await anonymous.models.audit({ runId, round: 0, token });
    expect(audit.state).toBe("ready");
    await expect(anonymous.models.audit({ runId, round: 0, token: "x".repeat(43) })).rejects.toThrow(/does not show that run/);
  });
});

describe("a tampered run", () => {
  it("is disputed when a counterexample is moved outside its eps box", async () => {
    const round = finished.find((e) => e.falsified > 0)!.round;
    const dir = copyRun("moved");
    const file = path.join(dir, `round_${round}`, "verification.json");
    const verification = readJson(file);
    const victim = verification.results.find((r: { status: string }) => r.status === "falsified");
    const samples = readJson(path.join(dir, "verification_samples.json"));
    const x0: number[] = samples.images[victim.index];
    // Push one pixel just beyond the box (and beyond the tolerance): still in [0, 1] where possible.
    const j = x0.findIndex((v) => v + samples.eps + 1e-3 <= 1);
    victim.counterexample[j] = x0[j] + samples.eps + 100 * BOX_TOLERANCE;
    writeJson(file, verification);
    const result = await auditRound(dir, round);
    expect(result.status).toBe("disputed");
    expect(result.counterexamples.invalid).toEqual([{ index: victim.index, reason: expect.stringContaining(`pixel ${j}`) }]);
    expect(result.problems.join("\n")).toMatch(new RegExp(`counterexample of sample ${victim.index}: pixel ${j} .* outside`));
  });

  it("is disputed when a clean-accuracy figure is tampered with", async () => {
    const dir = copyRun("accuracy");
    const file = path.join(dir, "round_0", "verification.json");
    const verification = readJson(file);
    // Claim one more correctly classified sample than there is (or one fewer, if all were correct).
    const wrong = verification.results.find((r: { status: string }) => r.status === "misclassified");
    if (wrong) {
      wrong.status = "verified";
      verification.misclassified -= 1;
    } else {
      verification.results[0].status = "misclassified";
      verification.misclassified += 1;
    }
    writeJson(file, verification);
    const result = await auditRound(dir, 0);
    expect(result.status).toBe("disputed");
    expect(result.cleanAccuracy.matches).toBe(false);
    expect(result.problems.join("\n")).toMatch(/verification\.json claims clean accuracy/);

    // The figure the dashboard shows is checked too, even when the files are honest.
    const honest = finished[0];
    const disputed = await auditRound(runDir, 0, [{ source: "the run's round_finished report", samples: honest.samples, misclassified: honest.misclassified + 1 }]);
    expect(disputed.status).toBe("disputed");
    expect(disputed.problems).toEqual([expect.stringMatching(/^the run's round_finished report claims clean accuracy/)]);
  });

  it("audits the run's files again once they change (the cache is keyed by their contents)", async () => {
    const caller = callerFor(services);
    const file = path.join(runDir, "round_1", "verification.json");
    const original = readFileSync(file);
    try {
      const verification = JSON.parse(original.toString());
      verification.results[0].label = (verification.results[0].label + 1) % 10;
      writeJson(file, verification);
      const audit = await caller.models.audit({ runId, round: 1 });
      expect(audit.state === "ready" && audit.result.status).toBe("disputed");
    } finally {
      writeFileSync(file, original);
    }
    const again = await caller.models.audit({ runId, round: 1 });
    expect(again.state === "ready" && again.result.status).toBe("passed");
  });
});

describe("the inspector", () => {
  it("counts the same weights and channels from the ONNX file as the engine reported", async () => {
    for (const event of finished) {
      const view = await callerFor(services).models.inspect({ runId, round: event.round });
      const counted = view.inspection.layers.map(({ name, kind, weights, remainingWeights, channels, remainingChannels }) => ({
        name, kind, weights, remainingWeights, channels, remainingChannels,
      }));
      expect(counted).toEqual(event.layers);
      expect(view.engineLayers).toEqual(event.layers);
    }
    const pruned = inspectOnnx(readFileSync(path.join(runDir, "round_1", "model.onnx")));
    expect(pruned.totals.sparsity).toBeGreaterThan(0.1); // IMP removed ~20% of the pruned layers' weights
    expect(pruned.input?.shape).toEqual(["N", 1, 16, 16]);
    expect(pruned.unsupported).toEqual([]);
  });

  it("answers NOT_FOUND for a round without a model", async () => {
    await expect(callerFor(services).models.inspect({ runId, round: 7 })).rejects.toThrow(/round 7 of run_\w+ has no exported model/);
  });
});
