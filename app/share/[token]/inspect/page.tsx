import type { Metadata } from "next";
import Link from "next/link";
import { ModelInspector } from "@/components/inspect/ModelInspector";
import { getServices } from "@/server/services";
import { shareForPage } from "@/server/http/sharePage";
import "../../../views.css";

// The token is in the URL: keep it out of search engines and out of Referer headers.
export const metadata: Metadata = { title: "Model inspector · shared from CertPrune", robots: { index: false, follow: false }, referrer: "no-referrer" };
export const dynamic = "force-dynamic";

/**
 * /share/<token>/inspect?round=K[&run=<id>]: the model inspector of a shared run's round, for
 * anyone holding the link, read-only (the model, its audit and its download are read through
 * the token, and refused once the link is revoked). A shared comparison names several runs:
 * `run` picks one of them (default: the first).
 */
export default async function SharedInspectPage({ params, searchParams }: {
  params: Promise<{ token: string }>;
  searchParams: Promise<{ round?: string; run?: string }>;
}) {
  const { token } = await params;
  const { round, run } = await searchParams;
  const share = shareForPage(getServices(), token); // 404 or 403 (../not-found.tsx, ../forbidden.tsx)
  const runId = run && share.runIds.includes(run) ? run : share.runIds[0];
  const k = Number(round ?? 0);
  return (
    <div data-testid="shared-inspector">
      <div className="page-head">
        <h1>Model inspector</h1>
        <span className="sub">layers, shapes and sparsity counted from the ONNX file itself, and an independent audit of the engine&rsquo;s claims</span>
      </div>
      <div className="readonly-banner" role="note">
        <span>
          Opened from a read-only link to {share.kind === "run" ? "a run" : "a comparison"}: <Link href={`/share/${encodeURIComponent(token)}`}>back to what it shows</Link>.
        </span>
      </div>
      {Number.isInteger(k) && k >= 0 ? (
        <ModelInspector runId={runId} round={k} token={token} sharedComparison={share.kind === "comparison"} />
      ) : (
        <div className="alert">round must be a whole number ≥ 0, not &ldquo;{round}&rdquo;</div>
      )}
    </div>
  );
}
