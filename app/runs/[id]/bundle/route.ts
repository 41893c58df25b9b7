/**
 * GET /runs/<id>/bundle?round=K: round K of a run as a VNN-COMP benchmark, zipped:
 * the engine's `export` command (spawned without a shell) writes model.onnx, one
 * VNNLIB property per verification sample and instances.csv into a temporary folder,
 * which is streamed back as <id>-round<K>-vnncomp.zip and then removed. Like every
 * run page, it is for signed-in researchers. At most CERTPRUNE_MAX_EXPORTS exports run at
 * once (default 2); beyond that a download answers 503 with Retry-After.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sessionTokenFrom } from "@/server/auth/cookie";
import { runDir, RunPaths } from "@/server/runPaths";
import { getServices } from "@/server/services";
import { zipStream, type ZipEntry } from "./zip";

export const dynamic = "force-dynamic";

const EXPORT_TIMEOUT_MS = 5 * 60_000;
const plain = (status: number, message: string) =>
  new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { accounts, runs, settings, exports } = getServices();
  if (!accounts.userForSession(sessionTokenFrom(request.headers))) {
    return plain(401, "sign in first: bundles are for signed-in researchers");
  }
  if (!/^run_[0-9a-f]{16}$/.test(id)) return plain(400, `"${id}" is not a run id (run_ and 16 hex digits)`);
  const roundText = new URL(request.url).searchParams.get("round") ?? "";
  if (!/^\d{1,4}$/.test(roundText)) return plain(400, `round must be a whole number such as ?round=0, got "${roundText}"`);
  const round = Number(roundText);
  if (!runs.get(id)) return plain(404, `no run ${id}`);
  const folder = runDir(settings.dataDir, id);
  if (!existsSync(new RunPaths(folder).checkpoint(round))) {
    return plain(404, `round ${round} of ${id} has no trained network yet; export a round once its training has finished`);
  }

  // Each export is an engine process: a bounded number at once, not one per request.
  const release = exports.tryTake();
  if (!release) {
    const busy = plain(503, `the server is already exporting ${exports.size} bundle${exports.size === 1 ? "" : "s"}; try again in a minute (CERTPRUNE_MAX_EXPORTS)`);
    busy.headers.set("retry-after", "30");
    return busy;
  }
  const outDir = await mkdtemp(path.join(os.tmpdir(), `certprune-bundle-${id}-`));
  const remove = () => void rm(outDir, { recursive: true, force: true });
  let exported;
  try {
    exported = await runExport(settings.enginePath, ["export", "--run", folder, "--round", String(round), "--out", outDir],
      { ...process.env, CERTPRUNE_DATA: settings.datasetsDir }, request.signal);
  } finally {
    release();
  }
  if (!exported.ok) {
    remove();
    return plain(exported.aborted ? 499 : 500, `the engine could not export round ${round}: ${exported.message}`);
  }
  const files = await listFiles(outDir);
  if (!files.some((f) => f.endsWith(".onnx"))) {
    remove();
    return plain(500, `the engine's export of round ${round} holds no ONNX model (files: ${files.join(", ") || "none"})`);
  }
  const name = `${id}-round${round}`;
  const entries: ZipEntry[] = files.map((f) => ({ name: `${name}/${f}`, read: () => readFile(path.join(outDir, f)) }));
  return new Response(zipStream(entries, remove), {
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${name}-vnncomp.zip"`,
      "cache-control": "no-store",
    },
  });
}

/** Relative paths (forward slashes) of every file under `root`, sorted. */
async function listFiles(root: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) found.push(relative);
  }
  return found.sort();
}

function runExport(command: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal) {
  return new Promise<{ ok: true } | { ok: false; message: string; aborted?: boolean }>((resolve) => {
    let stderr = "";
    const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), EXPORT_TIMEOUT_MS);
    const abort = () => child.kill("SIGTERM");
    signal.addEventListener("abort", abort, { once: true });
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-8000)));
    child.once("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `could not start ${command}: ${e.message}` });
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      if (code === 0) return resolve({ ok: true });
      const lines = stderr.trim().split("\n").filter(Boolean);
      const said = lines.filter((l) => /^error:/i.test(l)).pop() ?? lines.pop() ?? "";
      if (signal.aborted) return resolve({ ok: false, message: "the download was abandoned", aborted: true });
      resolve({ ok: false, message: said.replace(/^error:\s*/i, "") || (sig ? `stopped by ${sig}` : `exit code ${code}`) });
    });
  });
}
