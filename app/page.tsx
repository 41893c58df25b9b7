import Link from "next/link";
import { About } from "@/components/runs/About";
import { tableStateFrom } from "@/components/runs/columnList";
import { RunsTable } from "@/components/runs/RunsTable";
import { currentMe } from "@/server/auth/currentUser";
import { overviewRuns } from "@/server/routers/results";
import { getServices } from "@/server/services";
import "./views.css";

export const dynamic = "force-dynamic";

/** ?q=imp&group=method&sort=verified.desc&hide=seed: the table's filters, grouping, sort and columns. */
export default async function RunsOverviewPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  // Rendered with the runs for a signed-in researcher: the table shows without a loading round trip.
  const me = await currentMe();
  const initialRuns = me.user ? overviewRuns(getServices()) : null;
  return (
    <>
      <About compact />
      <div className="page-head">
        <h1>Runs</h1>
        <span className="sub">tick runs or a sweep, then Compare to put their pruning curves side by side</span>
        <span className="spacer" />
        <Link className="button secondary" href="/queue">Queue</Link>
        <Link className="button secondary" href="/shares">Share links</Link>
        <Link className="button" href="/runs/new">Launch a run</Link>
      </div>
      <section className="panel">
        <RunsTable initialRuns={initialRuns} initialState={tableStateFrom(await searchParams)} />
      </section>
    </>
  );
}
