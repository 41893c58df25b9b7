"use client";
/**
 * What a run's owner can do from its page: launch again with edits (the launch form
 * prefilled from this run's settings), retry a failed or cancelled run, cancel a queued or
 * running one, delete it. Each change asks for confirmation first; the server checks that
 * the caller owns the run and says so when not.
 */
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import type { RunStatus } from "@/lib/protocol";
import { useTRPC } from "@/lib/trpc/react";
import styles from "./run.module.css";

export interface CancelControl {
  onCancel: () => void;
  pending: boolean;
  /** The server's refusal, e.g. "sign in to cancel runs". */
  error: string | null;
}

/** A button that asks first: "Delete this run?" [Yes, delete] [Keep it]. */
function Confirmed({ label, question, yes, no, danger, pending, onConfirm, testId }: {
  label: string; question: ReactNode; yes: string; no: string; danger?: boolean; pending?: boolean; onConfirm: () => void; testId: string;
}) {
  const [asking, setAsking] = useState(false);
  if (asking) {
    return (
      <span className={styles.cancel} role="group" aria-label={label} data-testid={`${testId}-confirm`}>
        <span>{question}</span>
        <button className={danger ? "danger" : ""} onClick={() => { setAsking(false); onConfirm(); }} autoFocus>{yes}</button>
        <button className="secondary" onClick={() => setAsking(false)}>{no}</button>
      </span>
    );
  }
  return <button className={danger ? "danger" : "secondary"} onClick={() => setAsking(true)} disabled={pending} data-testid={testId}>{label}</button>;
}

export function RunActions({ runId, status, cancel, onRetried, uploaded }: { runId: string; status: RunStatus; cancel?: CancelControl; onRetried?: () => void; uploaded?: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const retry = useMutation(trpc.runs.retry.mutationOptions({ onSuccess: () => onRetried?.() }));
  const remove = useMutation(trpc.runs.delete.mutationOptions({ onSuccess: () => router.push("/") }));
  const active = status === "queued" || status === "running";
  const error = retry.error?.message ?? remove.error?.message ?? cancel?.error ?? null;
  return (
    <span className={styles.cancel} data-testid="run-actions">
      {error && <span className={styles.cancelError} role="alert">{error}</span>}
      {uploaded ? (
        <Link className="button secondary" href="/models/upload">Verify another model</Link>
      ) : (
        <Link className="button secondary" href={`/runs/new?from=${runId}`} data-testid="relaunch">Relaunch with edits</Link>
      )}
      {(status === "failed" || status === "cancelled") && (
        <Confirmed label={retry.isPending ? "Retrying…" : "Retry"} testId="retry" pending={retry.isPending}
          question="Queue this run again? It resumes from its last finished phase." yes="Yes, retry" no="Not now"
          onConfirm={() => retry.mutate({ id: runId })} />
      )}
      {active && cancel && (
        <Confirmed label={cancel.pending ? "Cancelling…" : "Cancel run"} testId="cancel" danger pending={cancel.pending}
          question="Stop this run? Finished rounds are kept." yes="Yes, cancel the run" no="Keep running" onConfirm={cancel.onCancel} />
      )}
      <Confirmed label={remove.isPending ? "Deleting…" : "Delete"} testId="delete" danger pending={remove.isPending}
        question={<>Delete this run, its events and its files? <strong>This cannot be undone.</strong></>} yes="Yes, delete it" no="Keep it"
        onConfirm={() => remove.mutate({ id: runId })} />
    </span>
  );
}
