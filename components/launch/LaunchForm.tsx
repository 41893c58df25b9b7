"use client";
/**
 * The launch form: presets fill it, the server validates it, and its messages appear
 * next to the fields they are about.
 */
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import {
  ARCHS, DATASETS, DEFAULT_CONFIG, METHOD_LABELS, REGIMES, VERIFICATION_MODES, type RunConfigInput,
} from "@/lib/protocol";
import { PRESETS } from "@/lib/presets";
import { useTRPC } from "@/lib/trpc/react";


/** The form keeps text as typed; numbers are converted on submit so the server judges them. */
type FormValues = Record<string, string>;

const FIELDS: { path: string; label: string; kind: "select" | "number" | "text"; options?: readonly string[]; help: string }[] = [
  { path: "data.dataset", label: "Dataset", kind: "select", options: DATASETS, help: "FashionMNIST ships with Debian; others read your files." },
  { path: "data.trainSize", label: "Training images", kind: "number", help: "First N training images (empty: all)." },
  { path: "model.arch", label: "Model", kind: "select", options: ARCHS, help: "cnn7 is the paper's network." },
  { path: "training.regime", label: "Training regime", kind: "select", options: REGIMES, help: "natural, FGSM+GradAlign, IBP or CROWN-IBP." },
  { path: "training.epochs", label: "Epochs per round", kind: "number", help: "The paper trains 200 per round." },
  { path: "training.eps", label: "Training epsilon", kind: "number", help: "L-inf radius in [0,1] pixels (empty: the dataset's)." },
  { path: "method", label: "Pruning method", kind: "select", options: Object.keys(METHOD_LABELS), help: "The paper's methods; Dense trains once." },
  { path: "pruning.rounds", label: "Pruning rounds", kind: "number", help: "Rounds after the dense round; 20% of weights each." },
  { path: "verification.mode", label: "Verifier", kind: "select", options: VERIFICATION_MODES, help: "bab is complete (beta-CROWN branch and bound)." },
  { path: "verification.samples", label: "Verification samples", kind: "number", help: "First N test images." },
  { path: "verification.timeout", label: "Timeout per sample (s)", kind: "number", help: "Undecided samples count as unknown." },
  { path: "seed", label: "Seed", kind: "number", help: "Runs with equal settings and seed are the same run." },
];

function get(config: RunConfigInput, path: string): unknown {
  return path.split(".").reduce<unknown>((obj, key) => (obj as Record<string, unknown> | undefined)?.[key], config);
}

function methodOf(config: RunConfigInput): string {
  const method = config.pruning?.method ?? DEFAULT_CONFIG.pruning.method;
  const regularizer = config.training?.regularizer ?? DEFAULT_CONFIG.training.regularizer;
  return Object.entries(METHOD_LABELS).find(([, p]) => p.method === method && p.regularizer === regularizer)?.[0] ?? "IMP";
}

function valuesFrom(config: RunConfigInput): FormValues {
  const values: FormValues = {};
  for (const field of FIELDS) {
    if (field.path === "method") values.method = methodOf(config);
    else {
      const v = get(config, field.path) ?? get(DEFAULT_CONFIG as RunConfigInput, field.path);
      values[field.path] = v == null ? "" : String(v);
    }
  }
  return values;
}

/** The preset's settings overlaid with what the form shows. */
function configFrom(base: RunConfigInput, values: FormValues): RunConfigInput {
  const config = structuredClone(base) as Record<string, Record<string, unknown> | unknown>;
  for (const field of FIELDS) {
    const raw = values[field.path];
    if (field.path === "method") {
      const pair = METHOD_LABELS[raw];
      config.pruning = { ...(config.pruning as object), method: pair.method };
      config.training = { ...(config.training as object), regularizer: pair.regularizer };
      continue;
    }
    const value = field.kind === "number" ? (raw.trim() === "" ? null : Number(raw)) : raw;
    const [group, key] = field.path.split(".");
    if (key === undefined) config[group] = value;
    else config[group] = { ...((config[group] as object) ?? {}), [key]: value };
  }
  return config as RunConfigInput;
}

export function LaunchForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [preset, setPreset] = useState(PRESETS[0]);
  const [values, setValues] = useState<FormValues>(() => valuesFrom(PRESETS[0].config));
  const create = useMutation(trpc.runs.create.mutationOptions({ onSuccess: (r) => router.push(`/runs/${r.id}`) }));
  const serverErrors: Record<string, string[]> = {};
  for (const [path, messages] of Object.entries(create.error?.data?.fieldErrors ?? {})) {
    serverErrors[path.replace(/^config\./, "")] = messages;
  }

  const choosePreset = (id: string) => {
    const next = PRESETS.find((p) => p.id === id)!;
    setPreset(next);
    setValues(valuesFrom(next.config));
    create.reset();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ config: configFrom(preset.config, values) as never });
  };
  const hasFieldErrors = Object.keys(serverErrors).length > 0;

  return (
    <form onSubmit={submit} aria-label="Launch a run" noValidate>
      <section className="panel">
        <h2>Preset</h2>
        <div className="row">
          {PRESETS.map((p) => (
            <button key={p.id} type="button" className={p.id === preset.id ? "" : "secondary"} onClick={() => choosePreset(p.id)} aria-pressed={p.id === preset.id}>
              {p.name}
            </button>
          ))}
        </div>
        <p className="muted">{preset.description}</p>
      </section>
      <section className="panel">
        <h2>Settings</h2>
        {create.isError && (
          <div className="alert" role="alert">
            {hasFieldErrors ? "Some settings are not valid; see the messages below." : create.error.message}
          </div>
        )}
        <div className="form">
          {FIELDS.map((field) => {
            const errors = serverErrors[field.path === "method" ? "pruning.method" : field.path];
            const id = `field-${field.path.replace(".", "-")}`;
            return (
              <div className={`field${errors ? " invalid" : ""}`} key={field.path}>
                <label htmlFor={id}>{field.label}</label>
                {field.kind === "select" ? (
                  <select id={id} value={values[field.path]} onChange={(e) => setValues({ ...values, [field.path]: e.target.value })}>
                    {field.options!.map((o) => <option key={o} value={o}>{o}</option>)}
                  </select>
                ) : (
                  <input id={id} inputMode="decimal" value={values[field.path]} aria-invalid={!!errors}
                    aria-describedby={`${id}-help`} onChange={(e) => setValues({ ...values, [field.path]: e.target.value })} />
                )}
                {errors ? <span className="error" role="status" data-testid={`error-${field.path}`}>{errors.join("; ")}</span>
                  : <span className="help" id={`${id}-help`}>{field.help}</span>}
              </div>
            );
          })}
        </div>
      </section>
      <div className="row">
        <button type="submit" disabled={create.isPending}>{create.isPending ? "Launching…" : "Launch run"}</button>
      </div>
    </form>
  );
}
