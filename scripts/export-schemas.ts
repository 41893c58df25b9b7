/**
 * Writes every generated file of the protocol (run: npm run schemas):
 *   engine/schemas/registry.json   from the engine's registries (python -m certprune.describe);
 *   engine/schemas/onnx-operators.json  from the ONNX op table (python -m certprune.describe onnx-operators);
 *   lib/protocol/generated.ts      from registry.json (the constants names.ts re-exports);
 *   engine/schemas/*.schema.json   from the zod protocol (lib/protocol/config.ts, events.ts);
 *   lib/protocol/defaults.ts       every setting's default as a plain object (config.ts's DEFAULT_CONFIG).
 * The Python records are the source of the registry constants, so the engine's Python
 * (CERTPRUNE_PYTHON, else ./.venv/bin/python) runs first; the JSON Schema is rendered
 * last, from a fresh import that sees the new generated.ts (config.ts's enums come from it).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderDefaults, renderGenerated, type Registry } from "../lib/protocol/generate";

const root = path.join(__dirname, "..");
const dir = path.join(root, "engine", "schemas");

function writeRegistry(): Registry {
  const python = process.env.CERTPRUNE_PYTHON || path.join(root, ".venv", "bin", "python");
  if (!process.env.CERTPRUNE_PYTHON && !existsSync(python)) {
    throw new Error(`${python} is missing: run bash scripts/setup.sh first, or set CERTPRUNE_PYTHON to a Python with the engine's packages`);
  }
  const text = execFileSync(python, ["-m", "certprune.describe"], { cwd: path.join(root, "engine"), encoding: "utf8" });
  writeFileSync(path.join(dir, "registry.json"), text);
  console.log("wrote engine/schemas/registry.json");
  const operators = execFileSync(python, ["-m", "certprune.describe", "onnx-operators"], { cwd: path.join(root, "engine"), encoding: "utf8" });
  writeFileSync(path.join(dir, "onnx-operators.json"), operators);
  console.log("wrote engine/schemas/onnx-operators.json");
  return JSON.parse(text) as Registry;
}

async function main() {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(root, "lib", "protocol", "generated.ts"), renderGenerated(writeRegistry()));
  console.log("wrote lib/protocol/generated.ts");
  // Imported only now, so that config.ts's enums are built from the generated.ts just written.
  const { renderSchemas } = await import("../lib/protocol/jsonSchema");
  for (const [name, text] of Object.entries(renderSchemas())) {
    writeFileSync(path.join(dir, name), text);
    console.log(`wrote engine/schemas/${name}`);
  }
  const { DEFAULT_CONFIG } = await import("../lib/protocol/config");
  writeFileSync(path.join(root, "lib", "protocol", "defaults.ts"), renderDefaults(DEFAULT_CONFIG));
  console.log("wrote lib/protocol/defaults.ts");
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
