"use client";
/** The compare page: the runs in the URL, their results (live while any runs), and the view's state in the URL. */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useRef, useState } from "react";
import type { CompareResult } from "@/lib/compare/api";
import type { SparsityBasis } from "@/lib/sparsity";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery, type CompareViewState } from "@/lib/viewState";
import { ShareButton } from "../share/ShareButton";
import { CompareView } from "./CompareView";
import { RunPicker } from "./RunPicker";

/** The x axis's basis rides in the URL as ?x=all|channels (absent: the pruned layers). */
const basisQuery = (basis: SparsityBasis) => (basis === "scope" ? "" : `&x=${basis}`);

export function ComparePage({ runIds, initialState, initialData, initialBasis = "scope" }: { runIds: string[]; initialState: CompareViewState; initialData: CompareResult | null; initialBasis?: SparsityBasis }) {
  const trpc = useTRPC();
  const [state, setState] = useState(initialState);
  const [basis, setBasisState] = useState<SparsityBasis>(initialBasis);
  const result = useQuery({
    ...trpc.results.compare.queryOptions({ runIds }),
    enabled: runIds.length > 0,
    initialData: initialData ?? undefined,
    refetchInterval: (q) => (q.state.data?.runs.some((r) => r.status === "running" || r.status === "queued") ? 5000 : false),
  });
  const onState = useCallback((next: CompareViewState) => {
    setState(next);
    // The URL always reproduces the view (reload, bookmark); no server round trip.
    window.history.replaceState(null, "", `/compare?${compareQuery(runIds, next)}${basisQuery(basisRef.current)}`);
  }, [runIds]);
  const basisRef = useRef(basis);
  basisRef.current = basis;
  const stateRef = useRef(state);
  stateRef.current = state;
  const setBasis = useCallback((next: SparsityBasis) => {
    setBasisState(next);
    basisRef.current = next;
    window.history.replaceState(null, "", `/compare?${compareQuery(runIds, stateRef.current)}${basisQuery(next)}`);
  }, [runIds]);
  const picker = <RunPicker runIds={runIds} state={state} extra={basisQuery(basis)} open={runIds.length === 0} />;

  if (runIds.length === 0) {
    return (
      <>
        <div className="panel empty" data-testid="compare-empty">
          Nothing to compare yet. Choose runs below, or on the <Link href="/">Runs</Link> page tick the runs (or a whole sweep) you want side by side and press <strong>Compare</strong>.
        </div>
        {picker}
      </>
    );
  }
  if (result.isPending) return <div className="panel empty">Loading {runIds.length} runs…</div>;
  if (result.isError) return <div className="alert" role="alert">Could not load the comparison: {result.error.message}</div>;
  const labels = [...new Set(result.data.runs.map((r) => r.label))];
  const title = labels.length ? labels.slice(0, 4).join(" vs ") + (labels.length > 4 ? ` +${labels.length - 4}` : "") : "comparison";
  return (
    <>
    {picker}
    <CompareView
      result={result.data}
      state={state}
      onState={onState}
      basis={basis}
      onBasis={setBasis}
      title={title}
      showBundles
      toolbar={result.data.runs.length > 0 ? <ShareButton target={{ kind: "comparison", runIds: result.data.runs.map((r) => r.id), state }} label="Share this view" /> : null}
    />
    </>
  );
}
