/**
 * models: what each round's exported model holds (counted from the ONNX file itself) and
 * the independent audit of the engine's claims about it (onnxruntime). Readable by any
 * signed-in researcher, and by a visitor whose share link names the run. Audits run on
 * demand (never on the engine's event path) and are cached per set of files.
 */
import { TRPCError } from "@trpc/server";
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import type { EventOf } from "@/lib/protocol";
import { AuditUnavailable, auditRound, readRoundFiles, type AuditResult, type ClaimedFigure } from "../audit/audit";
import { checkReadAccess } from "../auth/readAccess";
import { InspectionLimitError, inspectOffThread } from "../models/inspectOffThread";
import { OnnxFormatError } from "../models/onnxReader";
import { RunPaths } from "../runPaths";
import type { Services } from "../services";
import { publicProcedure, router } from "../trpc";
import { RunId } from "./results";

const Round = z.number().int().min(0).max(1000);
const Token = z.string().max(200).nullish();
const RoundInput = z.object({ runId: RunId, round: Round, token: Token }).strict();

export type RoundAudit = { state: "ready"; round: number; result: AuditResult } | { state: "unavailable"; round: number; reason: string };

/** The last round_finished event of each round (a resumed run replays them; the last one counts). */
function finishedRounds(services: Services, runId: string): Map<number, EventOf<"round_finished">> {
  const rounds = new Map<number, EventOf<"round_finished">>();
  for (const stored of services.runs.eventsAfter(runId, 0, ["round_finished"])) {
    const event = stored.event as EventOf<"round_finished">;
    rounds.set(event.round, event);
  }
  return rounds;
}

function runOrThrow(services: Services, runId: string) {
  const run = services.runs.get(runId);
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${runId}` });
  return run;
}

/** Audits round `round` of a run (or returns the stored audit of the same files and figures). */
export async function roundAudit(services: Services, runId: string, round: number): Promise<RoundAudit> {
  const finished = finishedRounds(services, runId).get(round);
  if (!finished) return { state: "unavailable", round, reason: `round ${round} has not finished yet` };
  if (finished.samples === 0) return { state: "unavailable", round, reason: `round ${round} verified no samples (verification mode "none")` };
  const figures: ClaimedFigure[] = [{ source: "the run's round_finished report", samples: finished.samples, misclassified: finished.misclassified }];
  try {
    const files = readRoundFiles(services.runner.runDir(runId), round, figures);
    const cached = services.audits.get(runId, round, files.hash);
    if (cached) return { state: "ready", round, result: cached };
    const result = await auditRound(services.runner.runDir(runId), round, figures, files);
    services.audits.put(runId, round, files.hash, result);
    return { state: "ready", round, result };
  } catch (error) {
    if (error instanceof AuditUnavailable) return { state: "unavailable", round, reason: error.message };
    // A model onnxruntime cannot load, or files that do not parse: the engine's claims cannot be checked.
    return { state: "unavailable", round, reason: `the audit could not run: ${(error as Error).message}` };
  }
}

/** round_<k>/model.onnx of a run, or a NOT_FOUND naming why there is none. */
export function modelPath(services: Services, runId: string, round: number): string {
  const file = new RunPaths(services.runner.runDir(runId)).onnx(round);
  if (!existsSync(file)) throw new TRPCError({ code: "NOT_FOUND", message: missingModelReason(services, runId, round) });
  return file;
}

/** Why round `round` of a run has no model file, in words: not there yet, beyond the run's rounds, or none exported. */
export function missingModelReason(services: Services, runId: string, round: number): string {
  const run = services.runs.get(runId);
  const finished = [...finishedRounds(services, runId).keys()].sort((a, b) => a - b);
  const planned = run?.summary.rounds ?? null;
  if (planned != null && round >= planned) {
    return `round ${round} of ${runId} has no exported model: the run has ${planned} round${planned === 1 ? "" : "s"} (0 to ${planned - 1}); there is no round ${round}`;
  }
  if (!finished.includes(round)) {
    const status = run?.status ?? "unknown";
    const sofar = finished.length ? `rounds finished so far: ${finished.join(", ")}` : "no round has finished yet";
    if (status === "queued" || status === "running") return `round ${round} has not finished yet (the run is ${status}; ${sofar}); its model appears here when it does`;
    return `round ${round} never finished: the run ${status === "finished" ? "finished" : `was ${status}`} before it (${sofar})`;
  }
  if (run?.config.verification.mode === "none") return `round ${round} of ${runId} exported no model: the run's verification mode is "none", and only verified rounds export one`;
  return `round ${round} of ${runId} has no exported model file (its folder may have been cleaned up)`;
}

export const modelsRouter = router({
  /** Layers, shapes, parameters and sparsity of a round's model, next to what the engine reported. */
  inspect: publicProcedure.input(RoundInput).query(async ({ ctx, input }) => {
    checkReadAccess(ctx.services, ctx.user, input.runId, input.token);
    const run = runOrThrow(ctx.services, input.runId);
    const file = modelPath(ctx.services, input.runId, input.round);
    let inspection;
    try {
      // Off the event loop: a verified upload's model is whatever its researcher sent.
      inspection = await inspectOffThread(readFileSync(file));
    } catch (error) {
      if (!(error instanceof OnnxFormatError || error instanceof InspectionLimitError)) throw error;
      throw new TRPCError({ code: "UNPROCESSABLE_CONTENT", message: `round ${input.round}'s model.onnx cannot be read: ${error.message}` });
    }
    const engineLayers = finishedRounds(ctx.services, input.runId).get(input.round)?.layers ?? null;
    const rounds = [...finishedRounds(ctx.services, input.runId).keys()].sort((a, b) => a - b);
    // The engine's remaining fractions for this round (lib/sparsity: of pruned layers, of all weights), for the inspector's labels.
    const reported = finishedRounds(ctx.services, input.runId).get(input.round);
    const engineSparsity = reported ? { remainingRatio: reported.remainingRatio, sparsity: reported.sparsity ?? null } : null;
    return { runId: run.id, label: run.label, round: input.round, rounds, inspection, engineLayers, engineSparsity };
  }),

  /** The independent audit of one round (computed on first request, then cached). */
  audit: publicProcedure.input(RoundInput).query(async ({ ctx, input }) => {
    checkReadAccess(ctx.services, ctx.user, input.runId, input.token);
    runOrThrow(ctx.services, input.runId);
    return roundAudit(ctx.services, input.runId, input.round);
  }),

  /** The audit of every finished round: which rounds are disputed. */
  audits: publicProcedure.input(z.object({ runId: RunId, token: Token }).strict()).query(async ({ ctx, input }) => {
    checkReadAccess(ctx.services, ctx.user, input.runId, input.token);
    runOrThrow(ctx.services, input.runId);
    const rounds = [...finishedRounds(ctx.services, input.runId).keys()].sort((a, b) => a - b);
    const audits: RoundAudit[] = [];
    for (const round of rounds) audits.push(await roundAudit(ctx.services, input.runId, round));
    return audits;
  }),
});
