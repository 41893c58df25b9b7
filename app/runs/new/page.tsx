import type { Metadata } from "next";
import { LaunchForm, type RelaunchFrom } from "@/components/launch/LaunchForm";
import { currentMe } from "@/server/auth/currentUser";
import { getServices } from "@/server/services";
import "../../views.css";

export const metadata: Metadata = { title: "Launch · CertPrune" };
export const dynamic = "force-dynamic";

/** ?from=<run id>: the form opens with that run's settings ("Relaunch with edits" on a run's page). */
export default async function LaunchPage({ searchParams }: { searchParams: Promise<{ from?: string | string[] }> }) {
  const { from } = await searchParams;
  const id = typeof from === "string" && /^run_[0-9a-f]{16}$/.test(from) ? from : null;
  const me = await currentMe();
  const run = id && me.user ? getServices().runs.get(id) : null;
  const source: RelaunchFrom | null = run ? { id: run.id, label: run.label, config: run.config } : null;
  return (
    <>
      <div className="page-head">
        <h1>{source ? "Launch again with edits" : "Launch a run"}</h1>
        <span className="sub">{source ? `starting from the settings of ${source.label}` : "pick a preset, tick the pruning methods to compare, adjust the settings"}</span>
      </div>
      {from !== undefined && !source && (
        <div className="alert" role="alert" data-testid="relaunch-missing">
          There is no run {typeof from === "string" ? `“${from.slice(0, 40)}”` : ""} to start from (deleted, or a mistyped link): the form shows a preset instead.
        </div>
      )}
      <LaunchForm from={source} />
    </>
  );
}
