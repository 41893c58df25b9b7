import type { Metadata } from "next";
import { ModelInspector } from "@/components/inspect/ModelInspector";
import "../../../views.css";

export const metadata: Metadata = { title: "Model inspector · CertPrune" };
export const dynamic = "force-dynamic";

/** /runs/<id>/inspect?round=K: what round K's exported model holds, and its audit. */
export default async function InspectPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ round?: string }> }) {
  const { id } = await params;
  const { round } = await searchParams;
  const k = Number(round ?? 0);
  return (
    <>
      <div className="page-head">
        <h1>Model inspector</h1>
        <span className="sub">layers, shapes and sparsity counted from the ONNX file itself, and an independent audit of the engine&rsquo;s claims</span>
      </div>
      {Number.isInteger(k) && k >= 0 ? <ModelInspector runId={id} round={k} /> : <div className="alert">round must be a whole number ≥ 0, not &ldquo;{round}&rdquo;</div>}
    </>
  );
}
