/**
 * Reads an uploaded ONNX file in a worker thread, with a time and a memory limit: parsing
 * tens of megabytes of protobuf takes a while, and a crafted file must not stall every
 * other request on the server's event loop (nor grow its heap) while it is read.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Inspection } from "./inspect";
import { OnnxFormatError } from "./onnxReader";

export interface OffThreadLimits {
  /** How long reading may take before the worker is stopped. */
  timeoutMs: number;
  /** The worker's heap limit. */
  maxHeapMb: number;
}

export const DEFAULT_LIMITS: OffThreadLimits = { timeoutMs: 20_000, maxHeapMb: 1024 };

/** Why a model could not be read within the limits (the caller answers 400 or 422 with it). */
export class InspectionLimitError extends Error {}

type Reply = { ok: true; inspection: Inspection } | { ok: false; formatError: boolean; message: string };

/** What the file holds; throws OnnxFormatError (malformed) or InspectionLimitError (too slow or too big to read). */
export function inspectOffThread(bytes: Uint8Array, limits: OffThreadLimits = DEFAULT_LIMITS): Promise<Inspection> {
  return new Promise<Inspection>((resolve, reject) => {
    const worker = startWorker(bytes, limits);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new InspectionLimitError(`reading the model took longer than ${limits.timeoutMs / 1000} s; it is too large or too complex to verify here`))),
      limits.timeoutMs,
    );
    worker.once("message", (reply: Reply) =>
      settle(() => {
        if (reply.ok) resolve(reply.inspection);
        else reject(reply.formatError ? new OnnxFormatError(reply.message) : new Error(`reading the model failed: ${reply.message}`));
      }),
    );
    worker.once("error", (error: Error & { code?: string }) =>
      settle(() =>
        reject(
          error.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? new InspectionLimitError(`reading the model needed more than ${limits.maxHeapMb} MiB of memory; it is too large or too complex to verify here`)
            : error,
        ),
      ),
    );
    worker.once("exit", (code) => settle(() => reject(new Error(`the model reader stopped (exit code ${code}) before it answered`))));
  });
}

/**
 * The worker runs this folder's TypeScript entry through tsx (as `bin/certprune` runs the
 * CLI), from the checkout the server runs in (process.cwd(), like the engine's path in
 * settings.ts): the same in `next dev`, `next start` and tests, with no bundler involved.
 */
function startWorker(bytes: Uint8Array, limits: OffThreadLimits): Worker {
  const entry = path.join(/*turbopackIgnore: true*/ process.cwd(), "server", "models", "inspectWorker.ts");
  const boot = `require("tsx/cjs"); require(${JSON.stringify(entry)});`;
  return new Worker(boot, { eval: true, workerData: bytes, resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb } });
}
