import { afterEach, describe, expect, it } from "vitest";
import { aggregateSeries } from "@/lib/compare/series";
import type { RunConfigInput } from "@/lib/protocol";
import { expandRun } from "@/lib/runsTable";
import { seedRun } from "@/tests/fixtures/syntheticRuns";
import { callerFor, SMOKE_CONFIG, testServices, waitForStatus } from "../testing";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());

/** One pruning round of a tiny MLP: real engine events in a few seconds. */
const pruned = (method: "imp" | "random"): RunConfigInput => ({
  ...SMOKE_CONFIG,
  training: { ...SMOKE_CONFIG.training, epochs: 1 },
  pruning: { method, rounds: 1, scope: "conv-linear" },
});

describe("results.compare", () => {
  it("returns each run's settings and finished rounds from the real engine", async () => {
    services = testServices();
    const caller = callerFor(services);
    const a = await caller.runs.create({ config: pruned("imp") });
    const b = await caller.runs.create({ config: pruned("random") });
    await waitForStatus(services, a.id, ["finished", "failed"]);
    await waitForStatus(services, b.id, ["finished", "failed"]);
    const missing = "run_0000000000000000";
    const result = await caller.results.compare({ runIds: [b.id, a.id, missing, a.id] });

    expect(result.missing).toEqual([missing]);
    expect(result.runs.map((r) => r.id)).toEqual([b.id, a.id]); // as asked, duplicates once
    for (const run of result.runs) {
      expect(run.status).toBe("finished");
      expect(run.rounds.map((r) => r.round)).toEqual([0, 1]);
      expect(run.rounds[0].remainingRatio).toBe(1);
      expect(run.rounds[1].remainingRatio).toBeCloseTo(0.8, 2); // 20% of the prunable weights
      // Every layer of the MLP is prunable here (scope conv-linear): together they keep 80%.
      expect(Object.keys(run.rounds[1].layerRemaining).length).toBeGreaterThan(0);
      for (const fraction of Object.values(run.rounds[1].layerRemaining)) expect(fraction).toBeLessThanOrEqual(1);
      expect(run.rounds[0].layerRemaining).toEqual(Object.fromEntries(Object.keys(run.rounds[0].layerRemaining).map((k) => [k, 1])));
    }
    expect(aggregateSeries(result.runs).map((s) => s.label)).toEqual(["Random", "IMP"]);
  });

  it("gives the engine's best round and the per-sample verdicts that the paired tests use", async () => {
    services = testServices();
    const caller = callerFor(services);
    const verified: RunConfigInput = { ...pruned("imp"), verification: { mode: "crown", samples: 12, eps: 0.01, pgdSteps: 5, pgdRestarts: 1 } };
    const a = await caller.runs.create({ config: verified });
    await waitForStatus(services, a.id, ["finished", "failed"]);
    const [run] = (await caller.results.compare({ runIds: [a.id] })).runs;
    expect(run.status).toBe("finished");
    const finished = services.runs.eventsAfter(a.id).map((e) => e.event).find((e) => e.type === "finished");
    expect(finished && "bestRound" in finished).toBe(true);
    const engineBest = (finished as { bestRound: number | null }).bestRound;
    expect(run.best?.round ?? null).toBe(engineBest); // read, never re-picked
    if (run.best) expect(run.best.source).toBe("engine");
    // One verdict per sample for round 0 and the best round, agreeing with each round's counts.
    for (const v of run.verdicts!) {
      expect(v.verdicts).toHaveLength(12);
      expect(v.verdicts).toMatch(/^[vfum]+$/);
      const counts = run.rounds.find((r) => r.round === v.round)!;
      expect([...v.verdicts].filter((c) => c === "v").length).toBe(counts.verified);
      expect([...v.verdicts].filter((c) => c === "f").length).toBe(counts.falsified);
    }
    expect(run.verdicts!.map((v) => v.round)).toEqual([...new Set([0, ...(engineBest == null ? [] : [engineBest])])]);
  });

  it("counts the samples of a round still verifying once each, with their latest outcome", async () => {
    services = testServices();
    // Two rounds finished; round 2 is being verified (its round_finished has not come).
    const id = seedRun(services.runs, { method: "IMP", rounds: 4, samples: 20, sampleEvents: true, stopAfter: 3 });
    const events = services.runs.eventsAfter(id).map((e) => e.event);
    const finished = events.filter((e) => e.type === "round_finished");
    const lastFinished = finished.pop()!;
    const all = services.db.prepare(`SELECT id FROM events WHERE run_id = ? AND type = 'round_finished' ORDER BY id DESC LIMIT 1`).get(id) as { id: number };
    services.db.prepare(`DELETE FROM events WHERE id = ?`).run(all.id); // round 2 not finished yet
    const round2 = events.filter((e): e is Extract<typeof e, { type: "sample_verified" }> => e.type === "sample_verified" && e.round === 2);
    // A resumed run verifies a sample of round 2 again: the later report replaces the earlier one.
    const again = round2[0];
    const flipped = again.status === "verified" ? "falsified" : "verified";
    services.runs.appendEvent(id, { ...again, status: flipped });

    const [run] = (await callerFor(services).results.compare({ runIds: [id] })).runs;
    expect(run.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(run.sampleOutcomes.map((o) => o.round)).toEqual([2]); // finished rounds report their own counts
    const counted = run.sampleOutcomes[0];
    expect(counted.verified + counted.falsified + counted.unknown + counted.misclassified).toBe(20); // 20, not 21
    const expected = { verified: 0, falsified: 0, unknown: 0, misclassified: 0 };
    for (const s of round2) expected[s === again ? flipped : s.status]++;
    expect(counted).toEqual({ round: 2, ...expected });
    // And those counts are what the round reported when it finished, but for the one flipped sample.
    expect(counted[flipped]).toBe(lastFinished[flipped] + 1);
  });

  it("lists the runs for the overview compactly, and they expand back to their exact settings", async () => {
    services = testServices();
    const ids = [
      seedRun(services.runs, { method: "IMP+NRS", dataset: "cifar10", regime: "fgsm", rounds: 3, samples: 5 }),
      seedRun(services.runs, { method: "Slim", arch: "cnn4", rounds: 2, samples: 5, stopAfter: 1, sweepId: "sweep_00000000000000ab" }),
    ];
    const rows = await callerFor(services).results.overview();
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const row of rows) {
      const stored = services.runs.get(row.id)!;
      expect(expandRun(row).config).toEqual(stored.config);
      expect(JSON.stringify(row.settings).length).toBeLessThan(JSON.stringify(stored.config).length / 3);
      expect(row.summary.bestVerifiedAccuracy).toBe(stored.summary.bestVerifiedAccuracy);
    }
    expect(rows.find((r) => r.id === ids[1])).toMatchObject({ status: "running", sweepId: "sweep_00000000000000ab" });
    await expect(callerFor(services, null).results.overview()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("is for signed-in researchers only", async () => {
    services = testServices();
    const id = seedRun(services.runs, { method: "IMP", rounds: 1, samples: 4 });
    await expect(callerFor(services, null).results.compare({ runIds: [id] })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("refuses malformed ids and oversized requests with clear messages", async () => {
    services = testServices();
    const caller = callerFor(services);
    await expect(caller.results.compare({ runIds: ["../../etc/passwd"] })).rejects.toThrow(/not a run id/);
    await expect(caller.results.compare({ runIds: [] })).rejects.toThrow(/at least one run/);
    const many = Array.from({ length: 201 }, (_, i) => `run_${i.toString(16).padStart(16, "0")}`);
    await expect(caller.results.compare({ runIds: many })).rejects.toThrow(/at most 200/);
  });
});
