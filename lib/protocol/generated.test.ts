import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, PruningConfig, TrainingConfig } from "./config";
import { renderDefaults, renderGenerated, type Registry } from "./generate";
import { DEFAULT_RATES, METHOD_LABELS, PRUNING_METHODS, REGIME_INFO, REGIMES, STRUCTURED_METHODS, defaultRate } from "./names";

const root = path.join(__dirname, "..", "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const registry = JSON.parse(read("engine/schemas/registry.json")) as Registry;

describe("constants generated from the engine's registries", () => {
  it("lib/protocol/generated.ts is exactly what engine/schemas/registry.json renders to", () => {
    expect(read("lib/protocol/generated.ts"), "lib/protocol/generated.ts is stale: run npm run schemas").toBe(
      renderGenerated(registry),
    );
  });

  it("lib/protocol/defaults.ts is exactly config.ts's defaults", () => {
    expect(read("lib/protocol/defaults.ts"), "lib/protocol/defaults.ts is stale: run npm run schemas").toBe(
      renderDefaults(DEFAULT_CONFIG),
    );
  });

  it("the config's enums are the registries' names, in registry order", () => {
    expect(TrainingConfig.shape.regime.unwrap().options).toEqual(registry.regimes.map((r) => r.name));
    expect(PruningConfig.shape.method.unwrap().options).toEqual(["none", ...registry.pruningMethods.map((m) => m.name)]);
    expect([...REGIMES]).toEqual(["natural", "fgsm", "ibp", "crown-ibp", "sabr", "mtl-ibp"]);
    expect(REGIME_INFO["crown-ibp"]).toMatchObject({ label: "CROWN-IBP", certified: true });
  });

  it("default rates and structured methods come from each method's record", () => {
    expect(DEFAULT_RATES).toEqual({ weights: 0.2, channels: 0.11 });
    expect(defaultRate("imp")).toBe(0.2);
    expect(defaultRate("nrs-channel")).toBe(0.11);
    expect(defaultRate("none")).toBeNull();
    expect([...STRUCTURED_METHODS]).toEqual(["struct-lth", "slim", "nrs-channel"]);
    for (const method of PRUNING_METHODS.slice(1)) {
      expect(defaultRate(method)).toBe((STRUCTURED_METHODS as readonly string[]).includes(method) ? 0.11 : 0.2);
    }
  });

  it("labels every paper method with a registered method and regulariser", () => {
    expect(Object.keys(METHOD_LABELS)).toEqual([
      "Dense", "Random", "IMP", "SNIP", "Taylor", "HYDRA", "IMP+RS", "IMP+NRS", "HYDRA+NRS", "StructLTH", "Slim", "NRS-channel",
    ]);
    for (const { method, regularizer } of Object.values(METHOD_LABELS)) {
      expect(PRUNING_METHODS).toContain(method);
      expect(registry.regularizers.map((r) => r.name)).toContain(regularizer);
    }
  });
});
