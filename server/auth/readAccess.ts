/**
 * Who may read a run's models and audits: any signed-in researcher, or a visitor holding a
 * share link that names the run (so shared pages show the audit too).
 */
import { TRPCError } from "@trpc/server";
import type { Services } from "../services";

export function checkReadAccess(services: Services, user: unknown, runId: string, token: string | null | undefined): void {
  if (user) return;
  if (!token) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first, or open this model from a share link" });
  const share = services.shares.byToken(token);
  if (!share || share.revokedAt !== null || !share.runIds.includes(runId)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "this share link does not show that run (or was revoked)" });
  }
}
