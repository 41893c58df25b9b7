"use client";
/**
 * The launch form: presets fill it, every setting of the run configuration has a field
 * (the main ones up front, the rest under "All settings"), ticking several pruning
 * methods or seeds launches a sweep, and an estimate of the time is kept up to date.
 * The server validates; its messages appear next to the fields they are about.
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent } from "react";
import { calibrate, estimateRun, NO_CALIBRATION } from "@/lib/estimate";
import { allFields, configFromValues, MAIN_FIELDS, parseSeeds, SPECIAL_FIELDS, valuesFrom, type FieldSpec, type FormValues } from "@/lib/launchFields";
import { PRESETS, type Preset } from "@/lib/presets";
import { DEFAULT_CONFIG, METHOD_LABELS, RunConfig, type RunConfigInput } from "@/lib/protocol";
import { useTRPC } from "@/lib/trpc/react";
import { compareQuery } from "@/lib/viewState";
import { EstimatePanel } from "./EstimatePanel";
import { LaunchWarnings } from "./LaunchWarnings";
import { MethodPicker } from "./MethodPicker";

const FIELDS = allFields().filter((f) => !SPECIAL_FIELDS.includes(f.path));
const MAIN = MAIN_FIELDS.map((p) => FIELDS.find((f) => f.path === p)!).filter(Boolean);
const ADVANCED = FIELDS.filter((f) => !MAIN_FIELDS.includes(f.path));

function methodsOf(preset: Preset): string[] {
  if (preset.methods) return preset.methods;
  const method = preset.config.pruning?.method ?? DEFAULT_CONFIG.pruning.method;
  const regularizer = preset.config.training?.regularizer ?? DEFAULT_CONFIG.training.regularizer;
  const label = Object.entries(METHOD_LABELS).find(([, p]) => p.method === method && p.regularizer === regularizer)?.[0];
  return [label ?? "IMP"];
}

const seedsOf = (preset: Preset) => (preset.seeds ?? [preset.config.seed ?? 0]).join(", ");

/** Server paths ("config.training.epochs", "base.training.epochs") as the form's ("training.epochs"). */
function formErrors(fieldErrors: Record<string, string[]> | null | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [path, messages] of Object.entries(fieldErrors ?? {})) {
    const key = path.replace(/^(config|base)\./, "") || "form";
    (out[key] ??= []).push(...messages);
  }
  return out;
}

/** Settings that do not apply to what the form describes are hidden (they keep their values). */
function applies(path: string, values: FormValues): boolean {
  if (path === "model.widths") return values["model.arch"] === "mlp";
  if (path === "model.onnx") return false; // set by the upload page
  if (path === "pruning.targetRatio") return values["pruning.schedule"] === "one-shot";
  if (path === "pruning.hydraEpochs") return false; // shown only when HYDRA is ticked (below)
  const regime = values["training.regime"];
  if (path.startsWith("training.sabr")) return regime === "sabr";
  if (path.startsWith("training.mtl")) return regime === "mtl-ibp";
  if (path === "training.lossFusion") return regime === "crown-ibp";
  if (path === "training.ibpInit" || path === "training.fastWarmup") return regime !== "natural" && regime !== "fgsm";
  if (path === "training.fgsmStep" || path === "training.gradAlignWeight") return regime === "fgsm";
  return true;
}

/** A run's settings as a preset: "Relaunch with edits" opens the form with them. */
export interface RelaunchFrom {
  id: string;
  label: string;
  config: RunConfigInput;
}

function presetFrom(run: RelaunchFrom): Preset {
  return {
    id: `run:${run.id}`,
    name: `Settings of “${run.label}”`,
    description: `Every setting of run ${run.id}. Change what you want to try: the same settings (and seed) are the same run, so launching them unchanged opens that run again.`,
    config: run.config,
  };
}

function Field({ field, value, errors, onChange }: { field: FieldSpec; value: string | boolean; errors?: string[]; onChange: (v: string | boolean) => void }) {
  const id = `field-${field.path.replace(/\./g, "-")}`;
  const help = `${id}-help`;
  const described = errors ? `${id}-error` : help;
  if (field.kind === "checkbox") {
    return (
      <div className={`field checkbox${errors ? " invalid" : ""}`}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={described} />
        <label htmlFor={id} title={field.path}>{field.label}</label>
        {errors ? <span className="error" id={`${id}-error`} role="status" data-testid={`error-${field.path}`}>{errors.join("; ")}</span> : <span className="help" id={help}>{field.help}</span>}
      </div>
    );
  }
  return (
    <div className={`field${errors ? " invalid" : ""}`}>
      <label htmlFor={id} title={field.path}>{field.label}</label>
      {field.kind === "select" ? (
        <select id={id} value={String(value)} onChange={(e) => onChange(e.target.value)} aria-describedby={described} aria-invalid={!!errors}>
          {field.nullable && <option value="">default</option>}
          {field.options!.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      ) : (
        <input id={id} inputMode={field.kind === "number" ? "decimal" : undefined} value={String(value)} aria-invalid={!!errors} aria-describedby={described}
          placeholder={field.nullable ? "default" : undefined} onChange={(e) => onChange(e.target.value)} />
      )}
      {errors ? <span className="error" id={`${id}-error`} role="status" data-testid={`error-${field.path}`}>{errors.join("; ")}</span> : <span className="help" id={help}>{field.help}</span>}
    </div>
  );
}

export function LaunchForm({ from }: { from?: RelaunchFrom | null }) {
  const trpc = useTRPC();
  const router = useRouter();
  const presets = useMemo(() => (from ? [presetFrom(from), ...PRESETS] : PRESETS), [from]);
  const [preset, setPreset] = useState(presets[0]);
  const [values, setValues] = useState<FormValues>(() => valuesFrom(presets[0].config, FIELDS));
  const [methods, setMethods] = useState<string[]>(() => methodsOf(presets[0]));
  const [seeds, setSeeds] = useState(() => seedsOf(presets[0]));
  // The queue ahead of a new run and this machine's measured speed (calibration).
  const queue = useQuery({ ...trpc.queue.forLaunch.queryOptions(), refetchInterval: 10_000 });
  const calibration = queue.data?.calibration ?? NO_CALIBRATION;
  const create = useMutation(trpc.runs.create.mutationOptions({ onSuccess: (r) => router.push(`/runs/${r.id}`) }));
  const sweep = useMutation(trpc.runs.createSweep.mutationOptions({ onSuccess: (r) => router.push(`/compare?${compareQuery(r.runs.map((x) => x.id))}`) }));
  const error = create.error ?? sweep.error;
  const errors = formErrors(error?.data?.fieldErrors);
  const pending = create.isPending || sweep.isPending;

  const parsedSeeds = parseSeeds(seeds);
  const seedCount = Array.isArray(parsedSeeds) ? parsedSeeds.length : 1;
  const runCount = Math.max(1, methods.length) * Math.max(1, seedCount);
  const isSweep = methods.length !== 1 || seedCount !== 1;

  /** The configuration of one run of the form (the first method and seed). */
  const configFor = (method: string, seed: unknown): RunConfigInput => {
    const base = configFromValues(preset.config, values, FIELDS);
    const pair = METHOD_LABELS[method] ?? METHOD_LABELS.IMP;
    return { ...base, pruning: { ...base.pruning, method: pair.method }, training: { ...base.training, regularizer: pair.regularizer }, seed: seed as number };
  };
  const estimate = useMemo(() => {
    const parsed = RunConfig.safeParse(configFor(methods[0] ?? "IMP", Array.isArray(parsedSeeds) ? parsedSeeds[0] ?? 0 : 0));
    if (!parsed.success) return null;
    // Each method prunes differently; HYDRA costs more. Sum over the methods, times the seeds.
    const perMethod = (methods.length ? methods : ["IMP"]).map((m) => calibrate(estimateRun(RunConfig.parse(configFor(m, parsed.data.seed))), calibration));
    return { first: perMethod[0], total: perMethod.reduce((a, e) => a + e.total, 0) * Math.max(1, seedCount) };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values, methods, seeds, preset, calibration]);

  const choosePreset = (id: string) => {
    const next = presets.find((p) => p.id === id)!;
    setPreset(next);
    setValues(valuesFrom(next.config, FIELDS));
    setMethods(methodsOf(next));
    setSeeds(seedsOf(next));
    create.reset();
    sweep.reset();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.reset();
    sweep.reset();
    if (!isSweep) {
      create.mutate({ config: configFor(methods[0], Array.isArray(parsedSeeds) ? parsedSeeds[0] : parsedSeeds) as never });
      return;
    }
    const { seed: _seed, ...base } = configFor(methods[0] ?? "IMP", 0);
    sweep.mutate({ base: base as never, methods: methods as never, seeds: parsedSeeds as never });
  };
  const set = (path: string) => (v: string | boolean) => setValues((prev) => ({ ...prev, [path]: v }));
  const hasFieldErrors = Object.keys(errors).length > 0;
  const advancedErrors = ADVANCED.some((f) => errors[f.path]);

  return (
    <form onSubmit={submit} aria-label="Launch a run" noValidate>
      <div className="launch-layout">
        <div>
          <section className="panel">
            <h2>Preset</h2>
            <div className="row">
              {presets.map((p) => (
                <button key={p.id} type="button" className={p.id === preset.id ? "" : "secondary"} onClick={() => choosePreset(p.id)} aria-pressed={p.id === preset.id}>
                  {p.name}
                </button>
              ))}
            </div>
            <p className="muted">{preset.description}</p>
          </section>
          {error && (
            <div className="alert" role="alert">
              {hasFieldErrors ? "Some settings are not valid; see the messages below." : error.message}
            </div>
          )}
          <section className="panel">
            <h2>Pruning methods</h2>
            <MethodPicker selected={methods} onChange={setMethods} errors={errors.methods} />
            <div className="form" style={{ marginTop: "0.9rem" }}>
              <div className={`field${errors.seeds || errors.seed ? " invalid" : ""}`}>
                <label htmlFor="field-seeds">Seeds</label>
                <input id="field-seeds" value={seeds} onChange={(e) => setSeeds(e.target.value)} aria-describedby="field-seeds-help" aria-invalid={!!(errors.seeds || errors.seed)} />
                {errors.seeds || errors.seed ? (
                  <span className="error" role="status" data-testid="error-seeds">{(errors.seeds ?? errors.seed)!.join("; ")}</span>
                ) : (
                  <span className="help" id="field-seeds-help">One seed, or several (0, 1, 2) to average over; equal settings and seed are the same run.</span>
                )}
              </div>
            </div>
          </section>
          <section className="panel">
            <h2>Settings</h2>
            <div className="form">
              {MAIN.filter((f) => applies(f.path, values)).map((f) => <Field key={f.path} field={f} value={values[f.path]} errors={errors[f.path]} onChange={set(f.path)} />)}
            </div>
          </section>
          <section className="panel">
            <details className="advanced" open={advancedErrors || undefined}>
              <summary>All settings ({ADVANCED.filter((f) => applies(f.path, values)).length} more)</summary>
              <div className="form">
                {ADVANCED.filter((f) => applies(f.path, values) || (f.path === "pruning.hydraEpochs" && methods.some((m) => METHOD_LABELS[m]?.method === "hydra"))).map((f) => <Field key={f.path} field={f} value={values[f.path]} errors={errors[f.path]} onChange={set(f.path)} />)}
              </div>
            </details>
          </section>
        </div>
        <aside>
          <EstimatePanel estimate={estimate?.first ?? null} total={estimate?.total ?? null} runs={runCount} queue={queue.data ?? null} />
          <LaunchWarnings config={configFor(methods[0] ?? "IMP", 0)} seeds={seedCount} methods={methods.length} />
          <div className="row" style={{ marginTop: "0.75rem" }}>
            <button type="submit" disabled={pending || methods.length === 0}>
              {pending ? "Launching…" : isSweep ? `Launch sweep (${runCount} runs)` : "Launch run"}
            </button>
            {methods.length === 0 && <span className="muted">Tick at least one method.</span>}
          </div>
        </aside>
      </div>
    </form>
  );
}
