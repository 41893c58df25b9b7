import { notFound } from "next/navigation";
import { RunPage } from "@/components/run/RunPage";
import { currentMe } from "@/server/auth/currentUser";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

/**
 * For a signed-in researcher the run's record is read on the server, so the page draws
 * at once and a wrong id is a 404; anonymous visitors get nothing (the guard sends them
 * to /login).
 */
export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const me = await currentMe();
  if (!me.user) return <RunPage id={id} />;
  const run = /^run_[0-9a-f]{16}$/.test(id) ? getServices().runs.get(id) : null;
  if (!run) notFound();
  return <RunPage id={id} initialRun={run} />;
}
