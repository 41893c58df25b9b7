import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { Providers } from "@/components/Providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "CertPrune",
  description: "Prune neural networks round by round and watch their certified robustness.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/" className="brand">
            Cert<span>Prune</span>
          </Link>
          <nav aria-label="Main">
            <Link href="/">Runs</Link>
            <Link href="/runs/new">Launch</Link>
          </nav>
        </header>
        <Providers>
          <main className="page">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
