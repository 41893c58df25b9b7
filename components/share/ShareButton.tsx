"use client";
/**
 * "Share": makes a read-only link to a run or a comparison, with the view as it is now
 * (chosen methods, metric, layer). The link is shown once: only its hash is stored.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef, useState } from "react";
import type { CompareViewState, RunViewState } from "@/lib/viewState";
import { useTRPC } from "@/lib/trpc/react";

export type ShareTarget =
  | { kind: "comparison"; runIds: string[]; state: CompareViewState }
  | { kind: "run"; runId: string; state: RunViewState };

export function ShareButton({ target, label = "Share" }: { target: ShareTarget; label?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [copied, setCopied] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const create = useMutation(
    trpc.shares.create.mutationOptions({
      onSuccess: () => {
        setCopied(false);
        void queryClient.invalidateQueries({ queryKey: trpc.shares.list.queryKey() });
      },
    }),
  );
  const url = create.data ? `${window.location.origin}${create.data.path}` : "";
  const copy = async () => {
    input.current?.select();
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      setCopied(false); // the text is selected: the researcher can copy it by hand
    }
  };
  return (
    <div className="share">
      <button type="button" className="secondary small" onClick={() => create.mutate(target as never)} disabled={create.isPending}>
        {create.isPending ? "Creating link…" : create.data ? "Create another link" : label}
      </button>
      {create.isError && <div className="alert" role="alert">Could not create a link: {create.error.message}</div>}
      {create.data && (
        <div className="share-result" data-testid="share-result">
          <label htmlFor="share-url"><strong>Read-only link</strong> <span className="muted">(anyone who has it can view this {target.kind}, without signing in; shown only now)</span></label>
          <div className="row">
            <input id="share-url" ref={input} readOnly value={url} onFocus={(e) => e.target.select()} data-testid="share-url" style={{ flex: 1 }} />
            <button type="button" className="small" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
          </div>
          <div className="row">
            <span className="muted" style={{ fontSize: "0.85rem" }}>Revoke it at any time under <Link href="/shares">Share links</Link>.</span>
            <span className="spacer" />
            <button type="button" className="secondary small" onClick={() => create.reset()}>Close</button>
          </div>
        </div>
      )}
    </div>
  );
}
