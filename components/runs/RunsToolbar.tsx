"use client";
/** The runs table's search, filters, grouping, column chooser, count and CSV export. */
import { RUN_STATUSES } from "@/lib/protocol/names";
import { GROUP_FIELDS, methodOf, runsCsv, type OverviewRun } from "@/lib/runsTable";
import type { RunsTableState } from "@/lib/viewState";
import { download } from "../compare/download";
import { COLUMNS } from "./columns";

function Choice({ label, value, options, onChange }: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <label>{label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">any</option>
        {options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </label>
  );
}

export function RunsToolbar({ all, shown, state, update, filtered, onClear }: {
  all: OverviewRun[];
  shown: OverviewRun[];
  state: RunsTableState;
  update: (patch: Partial<RunsTableState>) => void;
  filtered: boolean;
  onClear: () => void;
}) {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const datasets = uniq(all.map((r) => r.config.data.dataset));
  const regimes = uniq(all.map((r) => r.config.training.regime));
  const methods = uniq(all.map(methodOf));
  const tags = uniq(all.flatMap((r) => r.tags ?? []));
  const toggleColumn = (id: string, on: boolean) => update({ hidden: on ? state.hidden.filter((h) => h !== id) : [...state.hidden, id] });
  return (
    <div className="toolbar" role="search">
      <input type="search" placeholder="Search name, #tag, notes, id, method…" value={state.search} onChange={(e) => update({ search: e.target.value })} aria-label="Search runs" />
      <Choice label="Status" value={state.status} options={[...RUN_STATUSES]} onChange={(status) => update({ status })} />
      <Choice label="Dataset" value={state.dataset} options={datasets} onChange={(dataset) => update({ dataset })} />
      <Choice label="Regime" value={state.regime} options={regimes} onChange={(regime) => update({ regime })} />
      <Choice label="Method" value={state.method} options={methods} onChange={(method) => update({ method })} />
      {tags.length > 0 && <Choice label="Tag" value={state.tag} options={tags} onChange={(tag) => update({ tag })} />}
      <label>Group by
        <select value={state.groupBy} onChange={(e) => update({ groupBy: e.target.value })} title="Groups never mix datasets: a group is one value on one dataset">
          {GROUP_FIELDS.map((g) => <option key={g.key} value={g.key}>{g.label}</option>)}
        </select>
      </label>
      <details className="column-chooser">
        <summary>Columns</summary>
        <div role="group" aria-label="Columns shown">
          {COLUMNS.filter((c) => !c.fixed).map((c) => (
            <label key={c.id}>
              <input type="checkbox" checked={!state.hidden.includes(c.id)} onChange={(e) => toggleColumn(c.id, e.target.checked)} /> {c.label}
            </label>
          ))}
        </div>
      </details>
      {filtered && <button type="button" className="link" onClick={onClear}>Clear filters</button>}
      <span className="spacer" />
      <span className="count" data-testid="runs-count">{filtered ? `${shown.length.toLocaleString("en")} of ` : ""}{all.length.toLocaleString("en")} runs</span>
      <button type="button" className="secondary small" onClick={() => download(`certprune-runs-${new Date().toISOString().slice(0, 10)}.csv`, runsCsv(shown), "text/csv")}>Export CSV</button>
    </div>
  );
}
