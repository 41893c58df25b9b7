import Link from "next/link";
import { RunsTable } from "@/components/runs/RunsTable";
import { currentMe } from "@/server/auth/currentUser";
import { overviewRuns } from "@/server/routers/results";
import { getServices } from "@/server/services";
import "./views.css";

export default async function RunsOverviewPage() {
  // Rendered with the runs for a signed-in researcher: the table shows without a loading round trip.
  const me = await currentMe();
  const initialRuns = me.user ? overviewRuns(getServices()) : null;
  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
        <span className="sub">tick runs or a sweep, then Compare to put their pruning curves side by side</span>
        <span className="spacer" />
        <Link className="button secondary" href="/shares">Share links</Link>
        <Link className="button" href="/runs/new">Launch a run</Link>
      </div>
      <section className="panel">
        <RunsTable initialRuns={initialRuns} />
      </section>
    </>
  );
}
