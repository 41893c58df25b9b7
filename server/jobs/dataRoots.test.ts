import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dataRootProblem } from "./dataRoots";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("data folders confined to the configured roots", () => {
  it("accepts folders inside a root and refuses traversal, absolute escapes and symbolic links out", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "certprune-roots-"));
    const datasets = path.join(dir, "datasets");
    mkdirSync(path.join(datasets, "cifar"), { recursive: true });
    mkdirSync(path.join(dir, "secret"));
    symlinkSync(path.join(dir, "secret"), path.join(datasets, "escape"));
    const roots = [datasets];

    expect(dataRootProblem("cifar", roots, datasets)).toBeNull();
    expect(dataRootProblem(path.join(datasets, "cifar"), roots, datasets)).toBeNull();
    expect(dataRootProblem("not-made-yet/svhn", roots, datasets)).toBeNull();
    for (const bad of ["..", "../secret", "cifar/../../secret", "/etc", path.join(datasets, "..", "secret"), "escape", "escape/inner", "a\0b"]) {
      expect([bad, dataRootProblem(bad, roots, datasets)]).toEqual([bad, expect.stringMatching(/outside the data folders|NUL/)]);
    }
    // A prefix of a root's name is not inside it.
    expect(dataRootProblem(`${datasets}-other`, roots, datasets)).toMatch(/outside/);
  });
});
