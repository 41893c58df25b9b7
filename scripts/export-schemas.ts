/** Writes the zod protocol to engine/schemas/*.schema.json (run: npm run schemas). */
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { renderSchemas } from "../lib/protocol/jsonSchema";

const dir = path.join(__dirname, "..", "engine", "schemas");
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(renderSchemas())) {
  writeFileSync(path.join(dir, name), text);
  console.log(`wrote engine/schemas/${name}`);
}
