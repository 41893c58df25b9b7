import Link from "next/link";
import { RunsTable } from "@/components/runs/RunsTable";

export default function RunsOverviewPage() {
  return (
    <>
      <div className="row">
        <h1>Runs</h1>
        <span className="spacer" />
        <Link className="button" href="/runs/new">Launch a run</Link>
      </div>
      <section className="panel">
        <RunsTable />
      </section>
    </>
  );
}
