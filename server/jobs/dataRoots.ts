/**
 * Every path in a run's settings that the engine reads is confined: `data.root` to the
 * configured data roots (CERTPRUNE_DATA_ROOTS), `model.onnx` to the models uploaded to
 * this server (or the data roots). A launch form must not become a way to make the engine
 * read, or copy into a downloadable run, any file on the server. Symbolic links are
 * resolved before the check, and a refusal reads the same whether or not the path exists.
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import type { RunConfig } from "@/lib/protocol";
import { uploadsDir } from "../runPaths";
import type { ServerSettings } from "../settings";

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(/*turbopackIgnore: true*/ realPath(parent), path.basename(p));
  }
}

function isInside(child: string, root: string): boolean {
  const relative = path.relative(root, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * Null when `root` (relative paths: relative to the datasets folder) lies inside one of
 * `roots`; otherwise the message to show next to the field.
 */
export function dataRootProblem(root: string, roots: string[], datasetsDir: string): string | null {
  if (root.includes("\0")) return "the folder name contains a NUL character";
  const resolved = realPath(path.resolve(/*turbopackIgnore: true*/ datasetsDir, root));
  if (roots.some((allowed) => isInside(resolved, realPath(allowed)))) return null;
  return `${root} is outside the data folders this server may read (${roots.join(", ")}); put the dataset under one of them, or ask the admin to add its folder to CERTPRUNE_DATA_ROOTS`;
}

/**
 * Null when `file` (absolute) lies inside the uploads folder or one of `roots`; otherwise
 * the message to show next to the field. Says nothing about whether the file exists.
 */
export function modelFileProblem(file: string, roots: string[], uploadsDir: string): string | null {
  if (file.includes("\0")) return "the file name contains a NUL character";
  const allowed = `upload the model on the upload page (it is stored under ${uploadsDir}), or ask the admin to put it inside the data folders (${roots.join(", ")})`;
  if (!path.isAbsolute(file)) return `model.onnx must be an absolute path; ${allowed}`;
  const resolved = realPath(file);
  if ([uploadsDir, ...roots].some((folder) => isInside(resolved, realPath(folder)))) return null;
  return `model.onnx may only name a model uploaded to this server or a file inside the data folders; ${allowed}`;
}

/** Where the settings' paths must lie (from the server settings). */
export interface PathLimits {
  dataRoots: string[];
  datasetsDir: string;
  uploadsDir: string;
}

/** Where the paths in a run's settings must lie, for this server's settings. */
export function pathLimits(settings: Pick<ServerSettings, "dataRoots" | "datasetsDir" | "dataDir">): PathLimits {
  return { dataRoots: settings.dataRoots, datasetsDir: settings.datasetsDir, uploadsDir: uploadsDir(settings.dataDir) };
}

/** Every confined path of a run's settings that is out of bounds: field path (within the config) and message. */
export function configPathProblems(config: Pick<RunConfig, "data" | "model">, limits: PathLimits): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const root = config.data.root === null ? null : dataRootProblem(config.data.root, limits.dataRoots, limits.datasetsDir);
  if (root) problems.push({ path: ["data", "root"], message: root });
  const model = config.model.onnx === null ? null : modelFileProblem(config.model.onnx, limits.dataRoots, limits.uploadsDir);
  if (model) problems.push({ path: ["model", "onnx"], message: model });
  return problems;
}
