import { describe, expect, it } from "vitest";
import { calibrate, shrunkFactor, estimateRun, formatEstimate, NO_CALIBRATION } from "./estimate";
import { allFields, configFromValues, parseSeeds, valuesFrom } from "./launchFields";
import { PRESETS } from "./presets";
import { RunConfig, type RunConfigInput } from "./protocol";

const run = (input: RunConfigInput) => estimateRun(RunConfig.parse(input));
const quick: RunConfigInput = { data: { dataset: "synthetic" }, model: { arch: "mlp" }, training: { regime: "natural", epochs: 2 }, pruning: { rounds: 2 }, verification: { mode: "crown", samples: 10, timeout: 5 } };

describe("estimate", () => {
  it("adds up rounds x (training + evaluation + attack + verification)", () => {
    const e = run(quick);
    expect(e.rounds).toBe(3);
    expect(e.total).toBeCloseTo(e.start + e.training + e.evaluation + e.attack + e.verification, 9);
    expect(e.perRound).toBeCloseTo((e.total - e.start) / 3, 9);
    expect(run({ ...quick, training: { ...quick.training, epochs: 4 } }).training).toBeCloseTo(2 * e.training, 9);
    expect(run({ ...quick, pruning: { rounds: 5 } }).total - e.start).toBeCloseTo((6 / 3) * (e.total - e.start), 6);
  });

  it("charges CROWN-IBP's price only for the epochs of its eps ramp", () => {
    const base: RunConfigInput = { ...quick, training: { regime: "crown-ibp", epochs: 10, epsStart: 1, epsLength: 0 } };
    const noRamp = run(base).training;
    const ramp = run({ ...base, training: { ...base.training, epsLength: 5 } }).training;
    const allRamp = run({ ...base, training: { ...base.training, epsLength: 10 } }).training;
    expect(noRamp).toBeCloseTo(run({ ...base, training: { ...base.training, regime: "ibp" } }).training, 9);
    expect(ramp).toBeGreaterThan(noRamp);
    expect(allRamp).toBeGreaterThan(ramp);
    expect(ramp - noRamp).toBeCloseTo((allRamp - noRamp) / 2, 6);
  });

  it("caps every sample's verification at the timeout, and skips it when there is no verifier", () => {
    const bab = run({ ...quick, model: { arch: "cnn7" }, verification: { mode: "bab", samples: 100, timeout: 2 } });
    expect(bab.verification).toBeCloseTo(3 * 100 * 2, 9);
    expect(run({ ...quick, verification: { mode: "none", samples: 0 } }).verification).toBe(0);
    expect(run({ ...quick, verification: { mode: "none", samples: 0 } }).attack).toBe(0);
  });

  it("counts only the images a run uses, and says when it extrapolates", () => {
    const all = run({ data: { dataset: "fashion-mnist" }, model: { arch: "cnn4" }, training: { regime: "natural", epochs: 1 }, pruning: { method: "none" } });
    const some = run({ data: { dataset: "fashion-mnist", trainSize: 6000 }, model: { arch: "cnn4" }, training: { regime: "natural", epochs: 1 }, pruning: { method: "none" } });
    expect(some.training).toBeCloseTo(all.training / 10, 9);
    expect(run({ data: { dataset: "imagenet64" } }).notes.join(" ")).toMatch(/extrapolated/);
  });

  it("reads like an estimate", () => {
    expect([42, 90, 5400, 200_000].map(formatEstimate)).toEqual(["42 s", "2 min", "1.5 h", "2.3 days"]);
    expect([0, 0.3].map(formatEstimate)).toEqual(["none", "< 1 s"]);  // a part that is skipped, a tiny one
  });
});

describe("launch form fields", () => {
  const fields = allFields();

  it("has a field for every setting of the run configuration", () => {
    const paths = fields.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["data.dataset", "training.epochs", "pruning.scope", "verification.pgdRestarts", "seed", "device"]));
    expect(fields.find((f) => f.path === "training.lr")).toMatchObject({ kind: "number", nullable: true });
    expect(fields.find((f) => f.path === "model.widths")).toMatchObject({ kind: "list", nullable: false });
    expect(fields.find((f) => f.path === "data.augment")).toMatchObject({ kind: "checkbox" });
    expect(fields.find((f) => f.path === "model.arch")!.options).toContain("cnn7");
  });

  it("gives back each preset's settings unchanged when nothing is edited", () => {
    for (const preset of PRESETS) {
      const config = configFromValues(preset.config, valuesFrom(preset.config, fields), fields);
      expect(RunConfig.parse(config)).toEqual(RunConfig.parse(preset.config));
    }
  });

  it("leaves what is not a number for the server to refuse, with a message", () => {
    const values = { ...valuesFrom({}, fields), "training.epochs": "ten", "model.widths": "64, x" };
    const config = configFromValues({}, values, fields) as { training: { epochs: unknown }; model: { widths: unknown } };
    expect(config.training.epochs).toBe("ten");
    expect(config.model.widths).toEqual([64, "x"]);
    const result = RunConfig.safeParse(config);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["training.epochs", "model.widths.1"]));
    expect(parseSeeds("0, 1,2")).toEqual([0, 1, 2]);
    expect(parseSeeds("0, one")).toBe("0, one");
  });
});

describe("calibration on this machine", () => {
  it("scales set-up, training, verification and the rounds' other work by the measured factors", () => {
    const config = RunConfig.parse({ data: { dataset: "synthetic" }, model: { arch: "mlp", widths: [16] }, training: { regime: "natural", epochs: 4 }, pruning: { method: "imp", rounds: 2 }, verification: { mode: "crown", samples: 10 } });
    const raw = estimateRun(config);
    expect(calibrate(raw, NO_CALIBRATION)).toEqual(raw);
    const c = calibrate(raw, { trainFactor: 3, verifyFactor: 0.5, overheadFactor: 2, startFactor: 0.5, runs: 4 });
    expect(c.training).toBeCloseTo(raw.training * 3, 9);
    expect(c.verification).toBeCloseTo(raw.verification * 0.5, 9);
    expect(c.attack).toBeCloseTo(raw.attack * 2, 9);
    expect(c.start).toBeCloseTo(raw.start * 0.5, 9);
    expect(c.total).toBeCloseTo(raw.start * 0.5 + raw.training * 3 + raw.evaluation * 3 + raw.attack * 2 + raw.verification * 0.5, 9);
  });

  it("lets a run of seconds barely move a factor and a run of minutes nearly set it", () => {
    // A smoke run: 2 s of epochs where the table said 0.07 s. Unshrunk, a factor of 29.
    expect(shrunkFactor(2, 0.07)).toBeGreaterThan(1);
    expect(shrunkFactor(2, 0.07)).toBeLessThan(1.1);
    // A quick CPU demo: 220 s where the table said 257 s.
    expect(shrunkFactor(220, 257)).toBeCloseTo(250 / 287, 9);
    expect(shrunkFactor(220, 257)).toBeLessThan(0.9);
    expect(shrunkFactor(0, 0)).toBe(1);
    expect(shrunkFactor(-3, 0)).toBe(1); // clock skew never makes a negative measurement
  });
});
