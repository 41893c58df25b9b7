"use client";
/**
 * The runs overview: every run and sweep with its status, progress and best certified
 * result; search (names, tags, notes too), filter, sort and group (never across datasets);
 * choose columns; tick runs to compare; export what is shown as CSV. Filters, grouping,
 * sort and hidden columns live in the URL, so a link or a reload opens the same table.
 * Only the rows in view are rendered (fixed row height), so a thousand runs scroll as
 * smoothly as ten.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { expandRun, filterRuns, overviewRows, sortRuns, type CompactRun, type Filters, type Row, type SortKey } from "@/lib/runsTable";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery, DEFAULT_RUNS_TABLE_STATE, runsTableQuery, type RunsTableState } from "@/lib/viewState";
import { COLUMNS, GroupRowView, MAX_COMPARE, RunRowView } from "./columns";
import { RunsToolbar } from "./RunsToolbar";

const ROW_HEIGHT = 40;
const OVERSCAN = 12;

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

export function RunsTable({ initialRuns, initialState = DEFAULT_RUNS_TABLE_STATE }: { initialRuns?: CompactRun[] | null; initialState?: RunsTableState }) {
  const trpc = useTRPC();
  const runs = useQuery({
    ...trpc.results.overview.queryOptions(),
    initialData: initialRuns ?? undefined,
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === "running" || r.status === "queued") ? 3000 : 15000),
  });
  const [state, setState] = useState<RunsTableState>(initialState);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const update = useCallback((patch: Partial<RunsTableState>) => {
    setState((prev) => {
      const next = { ...prev, ...patch };
      const query = runsTableQuery(next);
      window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
      return next;
    });
  }, []);

  const filters: Filters = { search: state.search, status: state.status as Filters["status"], dataset: state.dataset, regime: state.regime, method: state.method, tag: state.tag };
  const sort = { key: state.sort.key as SortKey, descending: state.sort.descending };
  const all = useMemo(() => (runs.data ?? []).map(expandRun), [runs.data]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const shown = useMemo(() => sortRuns(filterRuns(all, filters), sort), [all, JSON.stringify(filters), sort.key, sort.descending]);
  const rows = useMemo(() => overviewRows(shown, state.groupBy, collapsed), [shown, state.groupBy, collapsed]);
  const columns = useMemo(() => COLUMNS.filter((c) => c.fixed || !state.hidden.includes(c.id)), [state.hidden]);
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
  const sortBy = (key: SortKey) =>
    update({ sort: { key, descending: sort.key === key ? !sort.descending : key === "created" || key === "verified" || key === "progress" || key === "duration" } });

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
  const clear = () => update({ search: "", status: "", dataset: "", regime: "", method: "", tag: "" });

  return (
    <>
      <RunsToolbar all={all} shown={shown} state={state} update={update} filtered={filtered} onClear={clear} />
      <div className="vscroll" ref={ref} tabIndex={0} aria-label="Runs table (scrolls)">
        <table className="runs" data-testid="runs-table" data-rows={rows.length} aria-rowcount={rows.length + 1}>
          <colgroup>{columns.map((c) => <col key={c.id} style={{ width: c.width }} />)}</colgroup>
          <thead>
            <tr>
              <th><input type="checkbox" checked={allShownSelected} onChange={(e) => onSelect(shown.map((r) => r.id), e.target.checked)} aria-label={`Select all ${shown.length} runs shown`} /></th>
              {columns.slice(1).map((c) => (
                <th key={c.id} className={c.num ? "num" : ""} title={c.title} aria-sort={c.key && sort.key === c.key ? (sort.descending ? "descending" : "ascending") : undefined}>
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
                <GroupRowView key={`g:${row.key}`} row={row} columns={columns} selected={selected} onSelect={onSelect} onToggle={onToggle} />
              ) : (
                <RunRowView key={row.run.id} run={row.run} columns={columns} grouped={row.grouped} selected={selected.has(row.run.id)} onSelect={onSelect} />
              ),
            )}
            {end < rows.length && <tr aria-hidden style={{ height: (rows.length - end) * ROW_HEIGHT }} />}
          </tbody>
        </table>
        {shown.length === 0 && (
          <div className="empty">No run matches these filters. <button type="button" className="link" onClick={clear}>Clear filters</button></div>
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
