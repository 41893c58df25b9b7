"use client";
/**
 * Sign in, or (while no account exists yet) create the first researcher account. Further
 * accounts come from an admin: `certprune user add NAME`.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { useMe } from "./AuthGuard";

/** Only same-site paths: a crafted ?next= must not send anyone elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export function SignInForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const next = safeNext(useSearchParams()?.get("next") ?? null);
  const me = useMe();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const done = {
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      router.replace(next);
    },
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions(done));
  const setup = useMutation(trpc.auth.setup.mutationOptions(done));
  const needsSetup = me.data?.needsSetup ?? false;
  const active = needsSetup ? setup : signIn;
  const fieldErrors = (active.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors ?? {};

  function submit(event: FormEvent) {
    event.preventDefault();
    if (needsSetup) {
      setMismatch(password !== confirm);
      if (password !== confirm) return;
      setup.mutate({ name, password });
    } else signIn.mutate({ name, password });
  }

  if (me.isPending) return <div className="empty">Loading…</div>;
  if (me.data?.user) {
    return (
      <section className="panel signin">
        <p>Signed in as <strong>{me.data.user.name}</strong>.</p>
        <button type="button" onClick={() => router.replace(next)}>Continue</button>
      </section>
    );
  }
  const field = (id: string, label: string, value: string, set: (v: string) => void, type: string, autoComplete: string) => (
    <div className={`field${fieldErrors[id] ? " invalid" : ""}`}>
      <label htmlFor={`signin-${id}`}>{label}</label>
      <input id={`signin-${id}`} type={type} value={value} autoComplete={autoComplete} required onChange={(e) => set(e.target.value)} />
      {fieldErrors[id]?.map((m) => <span key={m} className="error" data-testid={`error-${id}`}>{m}</span>)}
    </div>
  );
  return (
    <form className="panel signin" onSubmit={submit} aria-label={needsSetup ? "Create the first account" : "Sign in"}>
      <h1>{needsSetup ? "Create the first researcher account" : "Sign in"}</h1>
      {needsSetup ? (
        <p className="muted">No account exists yet. The account you create here can launch and manage runs; an admin adds more with <code>certprune user add NAME</code>.</p>
      ) : (
        <p className="muted">Researchers sign in to launch, watch and manage runs. Anyone else sees only the runs shared with them by link.</p>
      )}
      {active.error && !Object.keys(fieldErrors).length && (
        <div className="alert" role="alert" data-testid="signin-error">{active.error.message}</div>
      )}
      {field("name", "Name", name, setName, "text", "username")}
      {field("password", "Password", password, setPassword, "password", needsSetup ? "new-password" : "current-password")}
      {needsSetup && (
        <div className={`field${mismatch ? " invalid" : ""}`}>
          <label htmlFor="signin-confirm">Password again</label>
          <input id="signin-confirm" type="password" value={confirm} autoComplete="new-password" required onChange={(e) => setConfirm(e.target.value)} />
          {mismatch && <span className="error">The two passwords differ</span>}
        </div>
      )}
      <div className="row">
        <button type="submit" disabled={active.isPending}>{needsSetup ? "Create account and sign in" : "Sign in"}</button>
      </div>
    </form>
  );
}
