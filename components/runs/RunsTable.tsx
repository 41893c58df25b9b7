"use client";
/**
 * The runs overview: every run and sweep with its status, progress and best certified
 * result; search, filter, sort and group; tick runs to compare; export what is shown as
 * CSV. Only the rows in view are rendered (fixed row height), so a thousand runs scroll
 * as smoothly as ten.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { RUN_STATUSES } from "@/lib/protocol/names";
import {
  expandRun, filterRuns, GROUP_FIELDS, methodOf, NO_FILTERS, overviewRows, runsCsv, sortRuns,
  type CompactRun, type Filters, type GroupRow, type OverviewRun, type Row, type Sort, type SortKey,
} from "@/lib/runsTable";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery } from "@/lib/viewState";
import { download } from "../compare/download";
import { pct, ratio, timeAgo } from "@/lib/format";
import { ProgressBar, StatusBadge } from "../StatusBadge";

const ROW_HEIGHT = 40;
const OVERSCAN = 12;
const MAX_COMPARE = 200;

const COLUMNS: { key: SortKey | null; label: string; width: number; num?: boolean; title?: string }[] = [
  { key: null, label: "", width: 34 },
  { key: "label", label: "Run", width: 172 },
  { key: "status", label: "Status", width: 88 },
  { key: "progress", label: "Progress", width: 118 },
  { key: "dataset", label: "Dataset", width: 102 },
  { key: "arch", label: "Model", width: 58 },
  { key: "regime", label: "Regime", width: 84 },
  { key: "method", label: "Method", width: 96 },
  { key: "verifier", label: "Verifier", width: 70 },
  { key: null, label: "Seed", width: 50, num: true },
  { key: "verified", label: "Best verified", width: 114, num: true, title: "The best certified accuracy over the run's rounds" },
  { key: "remaining", label: "Remaining", width: 106, num: true, title: "Remaining weight ratio of the round with the best certified accuracy" },
  { key: "created", label: "Created", width: 80 },
];

/** The slice of rows inside the scroll container's viewport (plus some either side). */
function useWindow(count: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight || 800 });
    update();
    el.addEventListener("scroll", update, { passive: true });
    const resize = new ResizeObserver(update);
    resize.observe(el);
    return () => {
      el.removeEventListener("scroll", update);
      resize.disconnect();
    };
  }, []);
  const start = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(count, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  return { ref, start, end };
}

const RunRowView = memo(function RunRowView({ run, grouped, selected, onSelect }: { run: OverviewRun; grouped: boolean; selected: boolean; onSelect: (ids: string[], on: boolean) => void }) {
  const verified = run.summary.bestVerifiedAccuracy;
  return (
    <tr className={`run-row${grouped ? " grouped" : ""}${selected ? " selected" : ""}`} data-run={run.id}>
      <td><input type="checkbox" checked={selected} onChange={(e) => onSelect([run.id], e.target.checked)} aria-label={`Select ${run.label} (${run.id})`} /></td>
      <td title={`${run.label} · ${run.id}`}><Link href={`/runs/${run.id}`} prefetch={false}>{run.label}</Link> <span className="muted">{run.id.slice(4, 12)}</span></td>
      <td><StatusBadge status={run.status} /></td>
      <td>
        <div className="progress-cell">
          <ProgressBar value={run.progress} label={`progress of ${run.label}`} />
          <span>{Math.floor(Math.min(1, run.progress) * 100)}%</span>
        </div>
      </td>
      <td>{run.config.data.dataset}</td>
      <td>{run.config.model.arch}</td>
      <td>{run.config.training.regime}</td>
      <td>{methodOf(run)}</td>
      <td>{run.config.verification.mode}</td>
      <td className="num">{run.config.seed}</td>
      <td className="num">{verified == null ? <span className="muted">–</span> : <strong>{pct(verified)}</strong>}</td>
      <td className="num">{ratio(run.summary.bestRemainingRatio)}</td>
      <td title={new Date(run.createdAt).toLocaleString()}>{timeAgo(run.createdAt)}</td>
    </tr>
  );
});

function GroupRowView({ row, selected, onSelect, onToggle }: { row: GroupRow; selected: ReadonlySet<string>; onSelect: (ids: string[], on: boolean) => void; onToggle: (key: string) => void }) {
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
  const name = row.field === "sweep" ? `Sweep ${row.value.replace(/^sweep_/, "").slice(0, 12)}` : `${row.field} = ${row.value}`;
  return (
    <tr className="group-row" data-group={row.key}>
      <td><input ref={box} type="checkbox" checked={chosen === ids.length} onChange={(e) => onSelect(ids, e.target.checked)} aria-label={`Select all ${ids.length} runs of ${name}`} /></td>
      <td colSpan={2}>
        <button type="button" className="expander" aria-expanded={!row.collapsed} onClick={() => onToggle(row.key)} aria-label={`${row.collapsed ? "Expand" : "Collapse"} ${name}`}>
          {row.collapsed ? "▸" : "▾"}
        </button>
        {name}
        <span className="group-meta">{row.runs.length} run{row.runs.length === 1 ? "" : "s"}</span>
      </td>
      <td>
        <div className="progress-cell">
          <ProgressBar value={progress} label={`progress of ${name}`} />
          <span>{Math.floor(Math.min(1, progress) * 100)}%</span>
        </div>
      </td>
      <td colSpan={6} className="muted" title={methods.join(", ")}>
        {ids.length <= MAX_COMPARE ? <><Link href={`/compare?${compareQuery(ids)}`} prefetch={false}>Compare</Link> · </> : null}
        {[...counts].map(([s, n]) => `${n} ${s}`).join(" · ")} · {methods.slice(0, 6).join(", ")}{methods.length > 6 ? ", …" : ""}
      </td>
      <td className="num">{best?.summary.bestVerifiedAccuracy == null ? "–" : <strong>{pct(best.summary.bestVerifiedAccuracy)}</strong>}</td>
      <td className="num">{ratio(best?.summary.bestRemainingRatio)}</td>
      <td />
    </tr>
  );
}

export function RunsTable({ initialRuns }: { initialRuns?: CompactRun[] | null }) {
  const trpc = useTRPC();
  const runs = useQuery({
    ...trpc.results.overview.queryOptions(),
    initialData: initialRuns ?? undefined,
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === "running" || r.status === "queued") ? 3000 : 15000),
  });
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [sort, setSort] = useState<Sort>({ key: "created", descending: true });
  const [groupBy, setGroupBy] = useState("sweep");
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());

  const all = useMemo(() => (runs.data ?? []).map(expandRun), [runs.data]);
  const shown = useMemo(() => sortRuns(filterRuns(all, filters), sort), [all, filters, sort]);
  const rows = useMemo(() => overviewRows(shown, groupBy, collapsed), [shown, groupBy, collapsed]);
  const options = useMemo(() => ({
    datasets: [...new Set(all.map((r) => r.config.data.dataset))].sort(),
    regimes: [...new Set(all.map((r) => r.config.training.regime))].sort(),
    methods: [...new Set(all.map(methodOf))].sort(),
  }), [all]);
  const { ref, start, end } = useWindow(rows.length);

  const onSelect = useCallback((ids: string[], on: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      for (const id of ids) if (on) next.add(id); else next.delete(id);
      return next;
    });
  }, []);
  const onToggle = useCallback((key: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key); else next.add(key);
      return next;
    });
  }, []);
  const sortBy = (key: SortKey) => setSort((s) => ({ key, descending: s.key === key ? !s.descending : key === "created" || key === "verified" || key === "progress" }));

  if (runs.isPending) return <div className="empty">Loading runs…</div>;
  if (runs.isError) return <div className="alert" role="alert">Could not load runs: {runs.error.message}</div>;
  if (all.length === 0) {
    return (
      <div className="empty" data-testid="runs-empty">
        No runs yet. <Link href="/runs/new">Launch one</Link> — the synthetic smoke test takes seconds.
      </div>
    );
  }
  const selectedIds = all.filter((r) => selected.has(r.id)).map((r) => r.id);
  const filtered = shown.length !== all.length;
  const allShownSelected = shown.length > 0 && shown.every((r) => selected.has(r.id));
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <>
      <div className="toolbar" role="search">
        <input type="search" placeholder="Search label, id, method, sweep…" value={filters.search} onChange={(e) => set({ search: e.target.value })} aria-label="Search runs" />
        <label>Status
          <select value={filters.status} onChange={(e) => set({ status: e.target.value as Filters["status"] })}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Dataset
          <select value={filters.dataset} onChange={(e) => set({ dataset: e.target.value })}>
            <option value="">any</option>
            {options.datasets.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
        <label>Regime
          <select value={filters.regime} onChange={(e) => set({ regime: e.target.value })}>
            <option value="">any</option>
            {options.regimes.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
        <label>Method
          <select value={filters.method} onChange={(e) => set({ method: e.target.value })}>
            <option value="">any</option>
            {options.methods.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
        <label>Group by
          <select value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
            {GROUP_FIELDS.map((g) => <option key={g.key} value={g.key}>{g.label}</option>)}
          </select>
        </label>
        {filtered && <button type="button" className="link" onClick={() => setFilters(NO_FILTERS)}>Clear filters</button>}
        <span className="spacer" />
        <span className="count" data-testid="runs-count">{filtered ? `${shown.length.toLocaleString("en")} of ` : ""}{all.length.toLocaleString("en")} runs</span>
        <button type="button" className="secondary small" onClick={() => download(`certprune-runs-${new Date().toISOString().slice(0, 10)}.csv`, runsCsv(shown), "text/csv")}>Export CSV</button>
      </div>
      <div className="vscroll" ref={ref} tabIndex={0} aria-label="Runs table (scrolls)">
        <table className="runs" data-testid="runs-table" data-rows={rows.length} aria-rowcount={rows.length + 1}>
          <colgroup>{COLUMNS.map((c, i) => <col key={i} style={{ width: c.width }} />)}</colgroup>
          <thead>
            <tr>
              <th><input type="checkbox" checked={allShownSelected} onChange={(e) => onSelect(shown.map((r) => r.id), e.target.checked)} aria-label={`Select all ${shown.length} runs shown`} /></th>
              {COLUMNS.slice(1).map((c) => (
                <th key={c.label} className={c.num ? "num" : ""} title={c.title} aria-sort={c.key && sort.key === c.key ? (sort.descending ? "descending" : "ascending") : undefined}>
                  {c.key ? (
                    <button type="button" className="sort" onClick={() => sortBy(c.key!)}>
                      {c.label}{sort.key === c.key ? (sort.descending ? " ↓" : " ↑") : ""}
                    </button>
                  ) : c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {start > 0 && <tr aria-hidden style={{ height: start * ROW_HEIGHT }} />}
            {rows.slice(start, end).map((row: Row) =>
              row.kind === "group" ? (
                <GroupRowView key={`g:${row.key}`} row={row} selected={selected} onSelect={onSelect} onToggle={onToggle} />
              ) : (
                <RunRowView key={row.run.id} run={row.run} grouped={row.grouped} selected={selected.has(row.run.id)} onSelect={onSelect} />
              ),
            )}
            {end < rows.length && <tr aria-hidden style={{ height: (rows.length - end) * ROW_HEIGHT }} />}
          </tbody>
        </table>
        {shown.length === 0 && (
          <div className="empty">No run matches these filters. <button type="button" className="link" onClick={() => setFilters(NO_FILTERS)}>Clear filters</button></div>
        )}
      </div>
      {selectedIds.length > 0 && (
        <div className="selection-bar" role="region" aria-label="Selected runs">
          <strong>{selectedIds.length} selected</strong>
          {selectedIds.length <= MAX_COMPARE ? (
            <Link className="button small" href={`/compare?${compareQuery(selectedIds)}`} data-testid="compare-selected">Compare</Link>
          ) : (
            <span>compare at most {MAX_COMPARE} runs at once</span>
          )}
          <button type="button" className="link" style={{ color: "#d7def0" }} onClick={() => setSelected(new Set())}>Clear selection</button>
        </div>
      )}
    </>
  );
}
