"use client";
import Link from "next/link";
import { AuditSummary } from "@/components/audit/AuditSummary";
import type { RunView } from "@/lib/run/fold";
import { runQuery } from "@/lib/viewState";
import { RoundSelect, useRoundChoice, type RoundControl } from "./RoundSelect";
import styles from "./run.module.css";

/**
 * The independent audit (onnxruntime) of the selected round: clean accuracy recomputed on
 * the verification samples, every counterexample replayed; a mismatch is shown loudly. With
 * a link to the round's model in the inspector (through the share link on shared pages).
 */
export function AuditPanel({ runId, view, ratios, round: control, token }: {
  runId: string;
  view: RunView;
  ratios: ReadonlyMap<number, number>;
  round: RoundControl;
  token?: string;
}) {
  const rounds = view.roundResults.filter((r) => r.samples > 0).map((r) => r.round);
  const [round] = useRoundChoice(rounds, null, control);
  const k = typeof round === "number" ? round : null;
  const inspectHref = k == null ? null : token ? `/share/${encodeURIComponent(token)}/inspect?${runQuery({ round: k })}` : `/runs/${runId}/inspect?${runQuery({ round: k })}`;
  return (
    <section className="panel" aria-labelledby="audit-heading" data-testid="audit-panel" data-round={k ?? undefined}>
      <div className={styles.sectionControls}>
        <h2 id="audit-heading" style={{ margin: 0 }}>Independent audit</h2>
        <RoundSelect label="Round" rounds={rounds} value={round} onChange={control.onChange} ratios={ratios} testId="audit-round" />
        <span className="spacer" />
        {inspectHref && <Link href={inspectHref} data-testid="inspect-link">Inspect round {k}&rsquo;s model →</Link>}
      </div>
      {k == null ? (
        <div className="empty">Each round is audited with a second runtime (onnxruntime) once it has finished verifying.</div>
      ) : (
        <AuditSummary runId={runId} round={k} token={token} />
      )}
    </section>
  );
}
