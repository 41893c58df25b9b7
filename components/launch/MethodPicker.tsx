"use client";
/** The paper's pruning methods as checkboxes: one ticked launches a run, several a sweep. */
import { METHOD_LABELS, STRUCTURED_METHODS } from "@/lib/protocol";

const GROUPS: { title: string; methods: string[] }[] = [
  { title: "Baseline", methods: ["Dense"] },
  { title: "Unstructured (weights)", methods: Object.keys(METHOD_LABELS).filter((m) => m !== "Dense" && !(STRUCTURED_METHODS as readonly string[]).includes(METHOD_LABELS[m].method)) },
  { title: "Structured (channels)", methods: Object.keys(METHOD_LABELS).filter((m) => (STRUCTURED_METHODS as readonly string[]).includes(METHOD_LABELS[m].method)) },
];

export function MethodPicker({ selected, onChange, errors }: { selected: string[]; onChange: (methods: string[]) => void; errors?: string[] }) {
  const toggle = (m: string, on: boolean) => onChange(on ? [...selected, m].sort((a, b) => order(a) - order(b)) : selected.filter((x) => x !== m));
  return (
    <fieldset style={{ border: "none", padding: 0, margin: 0 }} aria-describedby="methods-help">
      <legend className="visually-hidden">Pruning methods</legend>
      <div className="methods">
        {GROUPS.map((g) => (
          <div key={g.title} style={{ display: "contents" }}>
            <div className="group-title">{g.title}</div>
            {g.methods.map((m) => (
              <label key={m}>
                <input type="checkbox" checked={selected.includes(m)} onChange={(e) => toggle(m, e.target.checked)} />
                {m}
              </label>
            ))}
          </div>
        ))}
      </div>
      {errors ? (
        <p className="error" role="status" data-testid="error-methods" style={{ color: "var(--falsified)" }}>{errors.join("; ")}</p>
      ) : (
        <p className="muted" id="methods-help" style={{ fontSize: "0.85rem", margin: "0.6rem 0 0" }}>
          {selected.length > 1 ? `${selected.length} methods: launches a sweep, one run per method and seed, compared side by side.` : "Tick several to launch a sweep and compare them."}
        </p>
      )}
    </fieldset>
  );
}

const ORDER = Object.keys(METHOD_LABELS);
const order = (m: string) => ORDER.indexOf(m);
