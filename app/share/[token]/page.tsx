import type { Metadata } from "next";
import { SharedView } from "@/components/share/SharedView";
import "../../views.css";

// The token is in the URL: keep it out of search engines and out of Referer headers.
export const metadata: Metadata = { title: "Shared from CertPrune", robots: { index: false, follow: false }, referrer: "no-referrer" };

export default async function SharePage({ params, searchParams }: { params: Promise<{ token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await params;
  return <SharedView token={token} query={await searchParams} />;
}
