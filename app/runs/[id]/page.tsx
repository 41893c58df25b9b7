import { notFound } from "next/navigation";
import { RunPage } from "@/components/run/RunPage";
import { currentMe } from "@/server/auth/currentUser";
import { parseRunQuery } from "@/lib/viewState";
import { getServices } from "@/server/services";
import "../../views.css";

export const dynamic = "force-dynamic";

/**
 * ?round=3&layer=conv2 selects a round and a layer (as a share link made from the page does).
 * For a signed-in researcher the run's record is read on the server, so the page draws
 * at once and a wrong id is a 404; anonymous visitors get nothing (the guard sends them
 * to /login).
 */
export default async function Page({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const initialState = parseRunQuery(await searchParams);
  const me = await currentMe();
  if (!me.user) return <RunPage id={id} initialState={initialState} />;
  const run = /^run_[0-9a-f]{16}$/.test(id) ? getServices().runs.get(id) : null;
  if (!run) notFound();
  return <RunPage id={id} initialRun={run} initialState={initialState} />;
}
