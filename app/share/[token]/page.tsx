import type { Metadata } from "next";
import { SharedView } from "@/components/share/SharedView";
import { shareForPage } from "@/server/http/sharePage";
import { getServices } from "@/server/services";
import "../../views.css";

// The token is in the URL: keep it out of search engines and out of Referer headers.
export const metadata: Metadata = { title: "Shared from CertPrune", robots: { index: false, follow: false }, referrer: "no-referrer" };

export const dynamic = "force-dynamic";

export default async function SharePage({ params, searchParams }: { params: Promise<{ token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await params;
  shareForPage(getServices(), token); // 404 or 403 (./not-found.tsx, ./forbidden.tsx)
  return <SharedView token={token} query={await searchParams} />;
}
