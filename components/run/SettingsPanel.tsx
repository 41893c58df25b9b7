"use client";
/**
 * Every setting of a run, grouped (data, model, training, pruning, verification, other),
 * with the ones that differ from the defaults highlighted (lib/protocol/defaults.ts), and
 * what the engine resolved and planned (its started event's plan) when it said so. An
 * uploaded model is verified as it is: its training and pruning settings do not apply.
 */
import { formatSetting } from "@/lib/compare/settings";
import { DEFAULT_SETTINGS } from "@/lib/protocol/defaults";
import type { RunConfig } from "@/lib/protocol";
import type { Plan } from "@/lib/run/fold";
import { remainingText } from "@/lib/sparsity";

const GROUPS = [
  ["data", "Data"],
  ["model", "Model"],
  ["training", "Training"],
  ["pruning", "Pruning"],
  ["verification", "Verification"],
] as const;

const NOT_APPLICABLE_FOR_UPLOAD = new Set(["training", "pruning"]);

function Setting({ name, value, fallback }: { name: string; value: unknown; fallback: unknown }) {
  const differs = JSON.stringify(value) !== JSON.stringify(fallback);
  return (
    <tr className={differs ? "differs" : undefined} data-differs={differs || undefined}>
      <td>{name}</td>
      <td className="num">{value === null ? <span className="muted">default</span> : formatSetting(value)}</td>
      <td className="num muted">{!differs ? "" : fallback == null
        ? <span title="when left unset, the engine picks it (by dataset, regime or method); the resolved plan below shows what it used">default: engine&apos;s</span>
        : `default ${formatSetting(fallback)}`}</td>
    </tr>
  );
}

/** "0 until epoch 1, ramps to 0.05 by epoch 100 (of 1000)": a round's training epsilon per epoch, in words. */
function epsScheduleText(schedule: number[]): string {
  if (!schedule.length) return "–";
  const max = Math.max(...schedule);
  if (max === 0) return "0 (no perturbation in training)";
  const firstOn = schedule.findIndex((e) => e > 0) + 1;
  const full = schedule.findIndex((e) => e >= max * (1 - 1e-9)) + 1;
  const value = formatSetting(Number(max.toPrecision(4)));
  if (full === 1) return `${value} from the first epoch`;
  return `0 before epoch ${firstOn}, then ramps to ${value} by epoch ${full} (of ${schedule.length})`;
}

function PlanRows({ plan }: { plan: Plan }) {
  const num = (x: number | null) => (x == null ? "–" : formatSetting(x));
  const targets = plan.remainingTargets;
  const rows: [string, string][] = [
    ["kind", plan.kind === "uploaded-model" ? "uploaded model (verified as it is)" : "experiment (train, prune, verify)"],
    ["rounds", plan.kind === "uploaded-model" ? "1 (the model as uploaded)" : `${plan.rounds} (round 0 is the dense network)`],
  ];
  if (plan.kind === "experiment") {
    rows.push(
      ["pruned per round", plan.pruneRate == null ? "not pruning" : `${remainingText(plan.pruneRate)} of what remains, by ${plan.unit ?? "weights"}`],
      ["remaining after each round", targets.length > 8 ? `${targets.slice(0, 4).map(remainingText).join(", ")}, …, ${remainingText(targets.at(-1))}` : targets.map(remainingText).join(", ")],
      ["epochs per round", String(plan.epochs)],
      ["learning rate", num(plan.lr)],
      ["weight decay", num(plan.weightDecay)],
      ["training ε", num(plan.trainEps)],
      ["ε schedule", epsScheduleText(plan.epsSchedule)],
    );
  }
  rows.push(["verification ε", num(plan.verifyEps)], ["best round", plan.bestRoundRule]);
  return (
    <table className="settings-table settings-plan" data-testid="run-plan">
      <caption>What the engine resolved and planned</caption>
      <tbody>{rows.map(([k, v]) => <tr key={k}><td>{k}</td><td className="num">{v}</td><td /></tr>)}</tbody>
    </table>
  );
}

export function SettingsPanel({ config, plan }: { config: RunConfig; plan: Plan | null }) {
  const uploaded = config.model.arch === "onnx";
  const defaults = DEFAULT_SETTINGS as unknown as Record<string, Record<string, unknown>>;
  const values = config as unknown as Record<string, Record<string, unknown>>;
  const changed = GROUPS.filter(([g]) => !(uploaded && NOT_APPLICABLE_FOR_UPLOAD.has(g))).reduce((n, [g]) => n + Object.keys(values[g] ?? {}).filter((k) => JSON.stringify(values[g][k]) !== JSON.stringify(defaults[g]?.[k])).length, 0);
  return (
    <section className="panel" aria-labelledby="settings-heading" data-testid="settings-panel">
      <details open>
        <summary><h2 id="settings-heading" style={{ display: "inline" }}>Settings</h2> <span className="muted">— {changed} differ from the defaults (highlighted)</span></summary>
        <div className="settings-grid">
          {GROUPS.map(([group, title]) => (
            <table key={group} className="settings-table" data-group={group}>
              <caption>{title}</caption>
              <tbody>
                {uploaded && NOT_APPLICABLE_FOR_UPLOAD.has(group) ? (
                  <tr><td colSpan={3} className="muted">Not used: an uploaded model is verified as it is, not trained or pruned here.</td></tr>
                ) : (
                  Object.keys(values[group] ?? {})
                    .filter((key) => !(group === "model" && key === "widths" && config.model.arch !== "mlp"))
                    .filter((key) => !(group === "model" && key === "onnx" && !uploaded))
                    .map((key) => <Setting key={key} name={key} value={values[group][key]} fallback={defaults[group]?.[key]} />)
                )}
              </tbody>
            </table>
          ))}
          <table className="settings-table" data-group="other">
            <caption>Other</caption>
            <tbody>
              <Setting name="seed" value={config.seed} fallback={DEFAULT_SETTINGS.seed} />
              <Setting name="device" value={config.device} fallback={DEFAULT_SETTINGS.device} />
            </tbody>
          </table>
          {plan ? <PlanRows plan={plan} /> : (
            <p className="muted" data-testid="run-plan-missing">The engine&rsquo;s resolved plan is not available for this run (it is shown once the engine starts; runs stored before engines reported it do not have one).</p>
          )}
        </div>
      </details>
    </section>
  );
}
