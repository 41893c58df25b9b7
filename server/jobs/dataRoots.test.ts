import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dataRootProblem, modelFileProblem } from "./dataRoots";

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

  it("confines model.onnx to the uploads and the data roots, saying the same whether or not a file exists", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "certprune-roots-"));
    const uploads = path.join(dir, "data", "uploads");
    const datasets = path.join(dir, "datasets");
    mkdirSync(uploads, { recursive: true });
    mkdirSync(datasets);
    writeFileSync(path.join(dir, "secret.onnx"), "x");
    symlinkSync(path.join(dir, "secret.onnx"), path.join(uploads, "link.onnx"));
    const roots = [datasets];

    expect(modelFileProblem(path.join(uploads, "ab12.onnx"), roots, uploads)).toBeNull();
    expect(modelFileProblem(path.join(datasets, "models", "m.onnx"), roots, uploads)).toBeNull();
    const existing = modelFileProblem(path.join(dir, "secret.onnx"), roots, uploads);
    expect(existing).toMatch(/may only name a model uploaded to this server/);
    for (const bad of [path.join(dir, "missing.onnx"), "/etc/passwd", path.join(uploads, "..", "..", "secret.onnx"), path.join(uploads, "link.onnx")]) {
      expect([bad, modelFileProblem(bad, roots, uploads)]).toEqual([bad, existing]);
    }
    expect(modelFileProblem("secret.onnx", roots, uploads)).toMatch(/must be an absolute path/);
    expect(modelFileProblem("/a\0b", roots, uploads)).toMatch(/NUL/);
  });
});
