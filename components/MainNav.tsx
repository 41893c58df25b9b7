"use client";
/** The top bar's links; a shared link's page shows none of them (it is read-only, for anyone). */
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Runs" },
  { href: "/runs/new", label: "Launch" },
  { href: "/models/upload", label: "Upload a model" },
  { href: "/queue", label: "Queue" },
  { href: "/compare", label: "Compare" },
  { href: "/shares", label: "Share links" },
];

export function MainNav() {
  const pathname = usePathname() ?? "/";
  if (pathname.startsWith("/share/")) return null;
  return (
    <nav aria-label="Main">
      {LINKS.map((l) => (
        <Link key={l.href} href={l.href} aria-current={pathname === l.href ? "page" : undefined}>{l.label}</Link>
      ))}
    </nav>
  );
}
