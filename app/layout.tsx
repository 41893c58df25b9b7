import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { AuthGuard } from "@/components/auth/AuthGuard";
import { UserMenu } from "@/components/auth/UserMenu";
import { MainNav } from "@/components/MainNav";
import { Providers } from "@/components/Providers";
import { currentMe } from "@/server/auth/currentUser";
import "./globals.css";

export const metadata: Metadata = {
  title: "CertPrune",
  description: "Prune neural networks round by round and watch their certified robustness.",
  icons: { icon: "/favicon.svg" },
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const me = await currentMe();
  return (
    <html lang="en">
      <body>
        <Providers>
          <header className="topbar">
            <Link href="/" className="brand">
              Cert<span>Prune</span>
            </Link>
            <MainNav />
            <span className="spacer" />
            <UserMenu initialMe={me} />
          </header>
          <main className="page">
            <AuthGuard initialMe={me}>{children}</AuthGuard>
          </main>
        </Providers>
      </body>
    </html>
  );
}
