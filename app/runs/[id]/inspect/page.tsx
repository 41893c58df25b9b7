import { existsSync } from "node:fs";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ModelInspector } from "@/components/inspect/ModelInspector";
import { sentence } from "@/lib/format";
import { currentMe } from "@/server/auth/currentUser";
import { RunPaths } from "@/server/runPaths";
import { missingModelReason } from "@/server/routers/models";
import { getServices } from "@/server/services";
import "../../../views.css";

export const metadata: Metadata = { title: "Model inspector · CertPrune" };
export const dynamic = "force-dynamic";

/**
 * /runs/<id>/inspect?round=K: what round K's exported model holds, and its audit. For a
 * signed-in researcher an unknown run is a 404 at once, and a round without a model says
 * why (not finished yet, beyond the run's rounds, none exported), without asking the API.
 */
export default async function InspectPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ round?: string }> }) {
  const { id } = await params;
  const { round } = await searchParams;
  const k = Number(round ?? 0);
  const me = await currentMe();
  const validRound = round === undefined || /^\d{1,4}$/.test(round);
  let missing: string | null = null;
  if (me.user) {
    const services = getServices();
    const run = /^run_[0-9a-f]{16}$/.test(id) ? services.runs.get(id) : null;
    if (!run) notFound();
    if (validRound && !existsSync(new RunPaths(services.runner.runDir(id)).onnx(k))) missing = missingModelReason(services, id, k);
  }
  return (
    <>
      <div className="page-head">
        <h1>Model inspector</h1>
        <span className="sub">layers, shapes and sparsity counted from the ONNX file itself, and an independent audit of the engine&rsquo;s claims</span>
      </div>
      {!validRound ? (
        <div className="alert" role="alert">round must be a whole number ≥ 0, not &ldquo;{round}&rdquo;</div>
      ) : missing ? (
        <div className="panel" role="status" data-testid="inspect-missing">
          <p>{sentence(missing)}</p>
          <p><Link href={`/runs/${id}`}>Back to the run</Link></p>
        </div>
      ) : (
        <ModelInspector runId={id} round={k} />
      )}
    </>
  );
}
