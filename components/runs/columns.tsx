"use client";
/**
 * The runs table's columns and its two kinds of rows (a run, a group of runs). Each
 * column has an id (the column chooser and the URL's `hide=` use it); the checkbox and
 * the run's name are always shown.
 */
import Link from "next/link";
import { memo, useEffect, useRef, type ReactNode } from "react";
import { formatDuration, pct, timeAgo } from "@/lib/format";
import { durationOf, isUploadedModel, methodOf, type GroupRow, type OverviewRun } from "@/lib/runsTable";
import { remainingText } from "@/lib/sparsity";
import { compareQuery } from "@/lib/viewState";
import type { Column } from "./columnList";
import { ProgressBar, StatusBadge } from "../StatusBadge";

export { COLUMNS, MAX_COMPARE, SORT_KEYS, CHOOSABLE, type Column } from "./columnList";
import { MAX_COMPARE } from "./columnList";

const dash = <span className="muted">–</span>;

function ProgressCell({ value, label }: { value: number; label: string }) {
  return (
    <div className="progress-cell">
      <ProgressBar value={value} label={label} />
      <span>{Math.floor(Math.min(1, value) * 100)}%</span>
    </div>
  );
}

function runCell(id: string, run: OverviewRun, selected: boolean, onSelect: (ids: string[], on: boolean) => void): ReactNode {
  const uploaded = isUploadedModel(run);
  switch (id) {
    case "select": return <input type="checkbox" checked={selected} onChange={(e) => onSelect([run.id], e.target.checked)} aria-label={`Select ${run.label} (${run.id})`} />;
    case "run": return (
      <>
        <Link href={`/runs/${run.id}`} prefetch={false}>{run.label}</Link>{" "}
        {run.tags?.length ? run.tags.map((t) => <span key={t} className="tag" data-testid="run-tag">{t}</span>) : <span className="muted">{run.id.slice(4, 12)}</span>}
      </>
    );
    case "status": return <StatusBadge status={run.status} />;
    case "progress": return <ProgressCell value={run.progress} label={`progress of ${run.label}`} />;
    case "dataset": return run.config.data.dataset;
    case "model": return uploaded ? "ONNX" : run.config.model.arch;
    case "regime": return uploaded ? <span className="muted" title="an uploaded model is verified as it is: not trained here">–</span> : run.config.training.regime;
    case "method": return methodOf(run);
    case "verifier": return run.config.verification.mode;
    case "seed": return uploaded ? dash : run.config.seed;
    case "verified": return run.summary.bestVerifiedAccuracy == null ? dash : <strong>{pct(run.summary.bestVerifiedAccuracy)}</strong>;
    case "remaining": return uploaded || run.summary.bestRemainingRatio == null ? dash : remainingText(run.summary.bestRemainingRatio);
    case "duration": {
      const d = durationOf(run);
      return d == null ? dash : formatDuration(d);
    }
    case "created": return <span title={new Date(run.createdAt).toLocaleString()}>{timeAgo(run.createdAt)}</span>;
    default: return null;
  }
}

export const RunRowView = memo(function RunRowView({ run, columns, grouped, selected, onSelect }: {
  run: OverviewRun; columns: Column[]; grouped: boolean; selected: boolean; onSelect: (ids: string[], on: boolean) => void;
}) {
  return (
    <tr className={`run-row${grouped ? " grouped" : ""}${selected ? " selected" : ""}`} data-run={run.id}>
      {columns.map((c) => (
        <td key={c.id} className={c.num ? "num" : undefined} title={c.id === "run" ? `${run.label} · ${run.id}${run.tags?.length ? ` · ${run.tags.join(", ")}` : ""}${run.notes ? `\n${run.notes}` : ""}` : undefined}>
          {runCell(c.id, run, selected, onSelect)}
        </td>
      ))}
    </tr>
  );
});

export function groupName(row: GroupRow): string {
  const value = row.field === "sweep" ? `Sweep ${row.value.replace(/^sweep_/, "").slice(0, 12)}` : `${row.field} = ${row.value}`;
  return row.field === "data.dataset" ? value : `${value} · ${row.dataset}`;
}

export function GroupRowView({ row, columns, selected, onSelect, onToggle }: {
  row: GroupRow; columns: Column[]; selected: ReadonlySet<string>; onSelect: (ids: string[], on: boolean) => void; onToggle: (key: string) => void;
}) {
  const ids = row.runs.map((r) => r.id);
  const chosen = ids.filter((id) => selected.has(id)).length;
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = chosen > 0 && chosen < ids.length;
  }, [chosen, ids.length]);
  const progress = row.runs.reduce((a, r) => a + r.progress, 0) / row.runs.length;
  const best = row.runs.reduce<OverviewRun | null>((b, r) => ((r.summary.bestVerifiedAccuracy ?? -1) > (b?.summary.bestVerifiedAccuracy ?? -1) ? r : b), null);
  const counts = new Map<string, number>();
  for (const r of row.runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const methods = [...new Set(row.runs.map(methodOf))];
  const name = groupName(row);
  const cell = (id: string): ReactNode => {
    switch (id) {
      case "select": return <input ref={box} type="checkbox" checked={chosen === ids.length} onChange={(e) => onSelect(ids, e.target.checked)} aria-label={`Select all ${ids.length} runs of ${name}`} />;
      case "run": return (
        <>
          <button type="button" className="expander" aria-expanded={!row.collapsed} onClick={() => onToggle(row.key)} aria-label={`${row.collapsed ? "Expand" : "Collapse"} ${name}`}>
            {row.collapsed ? "▸" : "▾"}
          </button>
          {name}
          <span className="group-meta">{row.runs.length} run{row.runs.length === 1 ? "" : "s"}</span>
        </>
      );
      case "status": return <span className="muted">{[...counts].map(([s, n]) => `${n} ${s}`).join(" · ")}</span>;
      case "progress": return <ProgressCell value={progress} label={`progress of ${name}`} />;
      case "dataset": return row.dataset;
      case "method": return (
        <span className="muted" title={methods.join(", ")}>
          {ids.length <= MAX_COMPARE ? <><Link href={`/compare?${compareQuery(ids)}`} prefetch={false}>Compare</Link> · </> : null}
          {methods.slice(0, 3).join(", ")}{methods.length > 3 ? ", …" : ""}
        </span>
      );
      case "verified": return best?.summary.bestVerifiedAccuracy == null ? "–" : <strong>{pct(best.summary.bestVerifiedAccuracy)}</strong>;
      case "remaining": return best?.summary.bestRemainingRatio == null ? "–" : remainingText(best.summary.bestRemainingRatio);
      default: return null;
    }
  };
  return (
    <tr className="group-row" data-group={row.key}>
      {columns.map((c) => <td key={c.id} className={c.num ? "num" : undefined}>{cell(c.id)}</td>)}
    </tr>
  );
}
