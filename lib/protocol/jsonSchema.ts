/** The protocol as JSON Schema files for the engine (written by `npm run schemas`). */
import { z } from "zod";
import { RunConfig } from "./config";
import { EngineEvent } from "./events";

export function renderSchemas(): Record<string, string> {
  const config = z.toJSONSchema(RunConfig, { io: "input", target: "draft-2020-12" });
  const events = z.toJSONSchema(EngineEvent, { io: "output", target: "draft-2020-12" });
  const render = (title: string, schema: object) =>
    JSON.stringify({ title, ...schema, $comment: "Generated from lib/protocol by `npm run schemas`; do not edit." }, null, 2) + "\n";
  return {
    "run-config.schema.json": render("CertPrune run configuration", config),
    "events.schema.json": render("CertPrune engine event", events),
  };
}
