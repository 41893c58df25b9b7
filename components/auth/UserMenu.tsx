"use client";
/** The signed-in researcher's name and a sign-out button, in the top bar. */
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/react";
import { useMe } from "./AuthGuard";
import type { Me } from "@/lib/session";

export function UserMenu({ initialMe }: { initialMe: Me }) {
  const trpc = useTRPC();
  const me = useMe(initialMe);
  // A full page load after signing out: nothing of the researcher's data stays in memory.
  const signOut = useMutation(trpc.auth.signOut.mutationOptions({ onSuccess: () => window.location.assign("/login") }));
  const user = me.data?.user;
  if (!user) return <Link href="/login" className="usermenu">Sign in</Link>;
  return (
    <div className="usermenu">
      <span data-testid="signed-in-as" title="signed in">{user.name}</span>
      <button type="button" className="linklike" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        Sign out
      </button>
    </div>
  );
}
