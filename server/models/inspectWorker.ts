/**
 * Worker-thread entry: reads one ONNX file (workerData: its bytes) and posts what it holds,
 * or why it cannot be read. Started by inspectOffThread (./inspectOffThread.ts), so a large
 * or crafted upload is parsed beside the server's event loop, not on it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { inspectOnnx } from "./inspect";
import { OnnxFormatError } from "./onnxReader";

try {
  parentPort!.postMessage({ ok: true, inspection: inspectOnnx(workerData as Uint8Array) });
} catch (error) {
  parentPort!.postMessage({ ok: false, formatError: error instanceof OnnxFormatError, message: (error as Error).message });
}
