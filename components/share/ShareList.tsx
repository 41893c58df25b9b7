"use client";
/** The signed-in researcher's share links: what each shows, how often it was opened, and a revoke button. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery } from "@/lib/viewState";
import { timeAgo } from "@/lib/format";

export function ShareList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.shares.list.queryOptions());
  const revoke = useMutation(trpc.shares.revoke.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.shares.list.queryKey() }) }));
  if (list.isPending) return <div className="empty">Loading your links…</div>;
  if (list.isError) return <div className="alert" role="alert">Could not load your links: {list.error.message}</div>;
  if (list.data.length === 0) {
    return <div className="empty" data-testid="shares-empty">You have not shared anything yet. Use <strong>Share</strong> on a comparison or a run page.</div>;
  }
  return (
    <>
      {revoke.isError && <div className="alert" role="alert">Could not revoke: {revoke.error.message}</div>}
      <table data-testid="share-list">
        <thead>
          <tr><th>What</th><th>Shows</th><th>Created</th><th className="num">Opened</th><th>Status</th><th><span className="visually-hidden">Actions</span></th></tr>
        </thead>
        <tbody>
          {list.data.map((s) => (
            <tr key={s.id} className={s.revokedAt ? "revoked" : ""} data-share={s.id}>
              <td><strong>{s.title}</strong> <span className="muted">{s.id}</span></td>
              <td>
                {s.kind === "run" ? <Link href={`/runs/${s.runIds[0]}`}>run</Link> : <Link href={`/compare?${compareQuery(s.runIds)}`}>comparison of {s.runIds.length} runs</Link>}
              </td>
              <td title={new Date(s.createdAt).toLocaleString()}>{timeAgo(s.createdAt)}</td>
              <td className="num">{s.views}×{s.lastViewedAt ? <span className="muted"> · last {timeAgo(s.lastViewedAt)}</span> : null}</td>
              <td>{s.revokedAt ? <span className="badge cancelled">revoked {timeAgo(s.revokedAt)}</span> : <span className="badge finished">active</span>}</td>
              <td>
                {!s.revokedAt && (
                  <button type="button" className="danger small" disabled={revoke.isPending} onClick={() => revoke.mutate({ id: s.id })} aria-label={`Revoke the link "${s.title}"`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" style={{ fontSize: "0.85rem" }}>A link&apos;s address is shown only when it is made; CertPrune keeps only a hash of it. Revoking takes effect at once, also for pages already open.</p>
    </>
  );
}
