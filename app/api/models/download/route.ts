/**
 * GET /api/models/download?runId=run_...&round=K[&token=SHARE]: a round's model.onnx, for a
 * signed-in researcher or a visitor whose share link names the run.
 */
import { TRPCError } from "@trpc/server";
import { readFileSync } from "node:fs";
import { sessionTokenFrom } from "@/server/auth/cookie";
import { checkReadAccess } from "@/server/auth/readAccess";
import { modelPath } from "@/server/routers/models";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

const STATUS: Partial<Record<TRPCError["code"], number>> = { UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

export async function GET(req: Request) {
  const url = new URL(req.url);
  const runId = url.searchParams.get("runId") ?? "";
  const round = Number(url.searchParams.get("round"));
  if (!/^run_[0-9a-f]{16}$/.test(runId) || !Number.isInteger(round) || round < 0) {
    return Response.json({ error: "give runId=run_<16 hex digits> and round=<a round number>" }, { status: 400 });
  }
  const services = getServices();
  try {
    checkReadAccess(services, services.accounts.userForSession(sessionTokenFrom(req.headers)), runId, url.searchParams.get("token"));
    if (!services.runs.get(runId)) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${runId}` });
    const bytes = readFileSync(modelPath(services, runId, round));
    return new Response(bytes, {
      headers: {
        "content-type": "application/octet-stream",
        "content-disposition": `attachment; filename="${runId}_round_${round}.onnx"`,
        "cache-control": "private, no-store",
      },
    });
  } catch (error) {
    if (error instanceof TRPCError) return Response.json({ error: error.message }, { status: STATUS[error.code] ?? 500 });
    throw error;
  }
}
