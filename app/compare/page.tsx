import type { Metadata } from "next";
import { ComparePage } from "@/components/compare/ComparePage";
import { parseCompareQuery } from "@/lib/viewState";
import { currentMe } from "@/server/auth/currentUser";
import { compareRuns } from "@/server/routers/results";
import { getServices } from "@/server/services";
import "../views.css";

export const metadata: Metadata = { title: "Compare runs · CertPrune" };

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const query = await searchParams;
  const { runIds, state } = parseCompareQuery(query);
  const basis = query.x === "all" || query.x === "channels" ? query.x : "scope";
  // Rendered with the data for a signed-in researcher: no loading round trip.
  const me = await currentMe();
  const initialData = me.user && runIds.length ? compareRuns(getServices(), runIds) : null;
  return (
    <>
      <div className="page-head">
        <h1>Compare runs</h1>
        <span className="sub">pruning methods against certified robustness</span>
      </div>
      <ComparePage key={runIds.join(",")} runIds={runIds} initialState={state} initialData={initialData} initialBasis={basis} />
    </>
  );
}
