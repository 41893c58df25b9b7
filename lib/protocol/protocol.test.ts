import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, EngineEvent, RunConfig, methodLabel } from ".";
import { DEFAULT_SETTINGS } from "./defaults";
import { fieldErrors } from "./fieldErrors";
import { renderSchemas } from "./jsonSchema";
import { canonicalJson, runIdOf } from "./runId";

const root = path.join(__dirname, "..", "..");
const examples = JSON.parse(readFileSync(path.join(root, "tests/fixtures/protocol-examples.json"), "utf8"));

describe("protocol", () => {
  it("the plain DEFAULT_SETTINGS (for light pages) equal the schema's defaults", () => {
    expect(DEFAULT_SETTINGS).toEqual(DEFAULT_CONFIG);
  });

  it("the engine's JSON Schema files are exactly what the zod schemas export", () => {
    for (const [name, text] of Object.entries(renderSchemas())) {
      const onDisk = readFileSync(path.join(root, "engine/schemas", name), "utf8");
      expect(onDisk, `engine/schemas/${name} is stale: run npm run schemas`).toBe(text);
    }
  });

  it("accepts every valid example event and rejects every invalid one", () => {
    for (const event of examples.validEvents) expect(EngineEvent.safeParse(event).success, event.type).toBe(true);
    for (const event of examples.invalidEvents) expect(EngineEvent.safeParse(event).success, event.type).toBe(false);
  });

  it("names the bad field of an invalid configuration", () => {
    for (const { config, field } of examples.invalidConfigs) {
      const result = RunConfig.safeParse(config);
      expect(result.success).toBe(false);
      expect(Object.keys(fieldErrors(result.error!))).toEqual([field]);
    }
  });

  it("fills every default, as the paper's settings", () => {
    expect(DEFAULT_CONFIG.training).toMatchObject({ regime: "crown-ibp", epochs: 200, batchSize: 128, gradClip: 8 });
    expect(DEFAULT_CONFIG.pruning).toMatchObject({ method: "imp", rounds: 16, scope: "conv", rewind: "init" });
    expect(DEFAULT_CONFIG.verification).toMatchObject({ mode: "bab", samples: 200, timeout: 300 });
  });

  it("pins run ids (the engine pins the same ones)", () => {
    for (const { config, runId } of examples.pinnedRunIds) expect(runIdOf(config)).toBe(runId);
  });

  it("ignores settings equal to their defaults and key order in run ids", () => {
    const a = runIdOf({ seed: 1, training: { epochs: 3, regime: "natural" } });
    const b = runIdOf({ training: { regime: "natural", epochs: 3, batchSize: 128 }, seed: 1 });
    expect(a).toBe(b);
    expect(runIdOf({ seed: 2 })).not.toBe(runIdOf({ seed: 1 }));
  });

  it("prints canonical JSON with sorted keys and JavaScript numbers", () => {
    expect(canonicalJson({ b: 1e-5, a: [2, 0.5] })).toBe('{"a":[2,0.5],"b":0.00001}');
  });

  it("labels methods as the paper does", () => {
    expect(methodLabel(RunConfig.parse({ training: { regularizer: "nrs" } }))).toBe("IMP+NRS");
    expect(methodLabel(RunConfig.parse({ pruning: { method: "slim" }, training: { regularizer: "slim" } }))).toBe("Slim");
    expect(methodLabel(RunConfig.parse({ pruning: { method: "random" } }))).toBe("Random");
  });
});
