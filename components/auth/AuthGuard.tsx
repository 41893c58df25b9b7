"use client";
/**
 * Sends anonymous visitors of researcher pages to /login (and back afterwards). The
 * server renders the layout with who is signed in (`initialMe`), so a signed-in
 * researcher's pages render at once, with no extra round trip.
 */
import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { isPublicPath, type Me } from "@/lib/session";

export function useMe(initialMe?: Me) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.auth.me.queryOptions(), initialData: initialMe, staleTime: 60_000 });
}

export function AuthGuard({ initialMe, children }: { initialMe: Me; children: ReactNode }) {
  const me = useMe(initialMe);
  const pathname = usePathname() ?? "/";
  const router = useRouter();
  const allowed = isPublicPath(pathname) || !!me.data?.user;
  useEffect(() => {
    if (allowed || me.isFetching) return;
    const next = pathname + window.location.search;
    router.replace(`/login?next=${encodeURIComponent(next)}`);
  }, [allowed, me.isFetching, pathname, router]);
  if (!allowed) return <div className="empty">Sign in to see this page… redirecting.</div>;
  return <>{children}</>;
}
