/**
 * A run's `data.root` may only point inside the configured data roots
 * (CERTPRUNE_DATA_ROOTS): a launch form must not become a way to make the engine read
 * any folder on the server. Symbolic links are resolved before the check.
 */
import { realpathSync } from "node:fs";
import path from "node:path";

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
