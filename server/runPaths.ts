/**
 * Every path of a run's artifacts the server reads or writes, in one place: the mirror of
 * the engine's RunPaths (engine/certprune/paths.py), which writes them. Under the server's
 * data folder:
 *
 *   <dataDir>/
 *     certprune.db                 the database (server/store/db.ts)
 *     runs/<run id>/               one run's folder, the engine's --out
 *       config.json                the full configuration the run was started with
 *       verification_samples.json  the verification samples (what an audit re-checks)
 *       round_<k>/
 *         checkpoint.pt            trained state dict (a bundle export needs it)
 *         verification.json        every sample's outcome and the totals
 *         model.onnx               the (shrunk) trained network
 *         metrics.json             the round's summary; the round is done when it exists
 *     sweeps/<sweep id>/           the dense round and initial weights a sweep's runs share
 *     uploads/<sha256>.onnx        uploaded models, content-addressed
 */
import path from "node:path";

/** Where run folders live: `<dataDir>/runs`. */
export function runsDir(dataDir: string): string {
  return path.join(dataDir, "runs");
}

/** Where a run's artifacts live: `<dataDir>/runs/<id>`. */
export function runDir(dataDir: string, runId: string): string {
  return path.join(runsDir(dataDir), runId);
}

/** The folder a sweep's runs share (its dense round and initial weights). */
export function sweepDir(dataDir: string, sweepId: string): string {
  return path.join(dataDir, "sweeps", sweepId);
}

/** Where uploaded models are kept (content-addressed: `<sha256>.onnx`). */
export function uploadsDir(dataDir: string): string {
  return path.join(dataDir, "uploads");
}

/** Names of the files of the run whose folder is `root` (as RunPaths in paths.py). */
export class RunPaths {
  constructor(readonly root: string) {}

  get config(): string {
    return path.join(this.root, "config.json");
  }

  get verificationSamples(): string {
    return path.join(this.root, "verification_samples.json");
  }

  roundDir(round: number): string {
    if (round < 0) throw new RangeError(`round must be >= 0, got ${round}`);
    return path.join(this.root, `round_${round}`);
  }

  checkpoint(round: number): string {
    return path.join(this.roundDir(round), "checkpoint.pt");
  }

  verification(round: number): string {
    return path.join(this.roundDir(round), "verification.json");
  }

  onnx(round: number): string {
    return path.join(this.roundDir(round), "model.onnx");
  }

  metrics(round: number): string {
    return path.join(this.roundDir(round), "metrics.json");
  }
}
