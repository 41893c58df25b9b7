"use client";
/**
 * The independent audit of one round (server/audit): onnxruntime recomputed clean accuracy
 * on the verification samples and replayed every counterexample. A mismatch is shown loudly
 * and marks the round as disputed.
 *
 *   <AuditSummary runId={run.id} round={k} />                 // signed-in pages
 *   <AuditSummary runId={run.id} round={k} token={token} />   // share pages (the link's token)
 */
import { useQuery } from "@tanstack/react-query";
import { pct } from "@/lib/format";
import { useTRPC } from "@/lib/trpc/react";
import styles from "./audit.module.css";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function AuditSummary({ runId, round, token }: { runId: string; round: number; token?: string }) {
  const trpc = useTRPC();
  const audit = useQuery({ ...trpc.models.audit.queryOptions({ runId, round, token }), staleTime: 30_000 });
  if (audit.isPending) return <div className={`${styles.audit} ${styles.unavailable}`} data-testid="audit-summary" data-status="pending">Auditing round {round} with a second runtime…</div>;
  if (audit.isError) return <div className={`${styles.audit} ${styles.unavailable}`} data-testid="audit-summary" data-status="error">Audit unavailable: {audit.error.message}</div>;
  const data = audit.data;
  if (data.state === "unavailable") {
    return (
      <div className={`${styles.audit} ${styles.unavailable}`} data-testid="audit-summary" data-status="unavailable">
        <span className={styles.headline}>No audit for round {round}:</span> {data.reason}
      </div>
    );
  }
  const r = data.result;
  const ce = r.counterexamples;
  const accuracy = r.cleanAccuracy.matches
    ? `clean accuracy matches (${pct(r.cleanAccuracy.audit)})`
    : `clean accuracy does NOT match (onnxruntime: ${pct(r.cleanAccuracy.audit)}${r.cleanAccuracy.engine !== null ? `, engine: ${pct(r.cleanAccuracy.engine)}` : ""})`;
  const replayed = ce.claimed === 0
    ? "no counterexamples to replay"
    : ce.replayed === 0
      ? `${plural(ce.claimed, "counterexample")} not recorded`
      : `${plural(ce.replayed, "counterexample")} replayed, ${ce.valid === ce.replayed ? "all valid" : `${ce.replayed - ce.valid} invalid`}`;
  const headline = r.status === "disputed" ? `Disputed: round ${round}` : r.status === "passed" ? `Audit passed: round ${round}` : `Audit incomplete: round ${round}`;
  return (
    <div className={`${styles.audit} ${styles[r.status]}`} data-testid="audit-summary" data-status={r.status} role={r.status === "disputed" ? "alert" : undefined}>
      <span className={styles.headline}>{headline}</span>
      <span>{plural(r.samples, "sample")}: {accuracy}; {replayed}.</span>{" "}
      <span className={styles.runtime}>Checked independently with {r.runtime} at eps {r.eps}.</span>
      {(r.problems.length > 0 || r.notes.length > 0) && (
        <ul className={styles.detail}>
          {r.problems.map((p) => <li key={p}>{p}</li>)}
          {r.notes.map((n) => <li key={n} className="muted">{n}</li>)}
        </ul>
      )}
    </div>
  );
}
