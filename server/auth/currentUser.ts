/** Who is signed in, for server components (the layout renders with it: no extra round trip). */
import { cookies } from "next/headers";
import type { Me } from "@/lib/session";
import { getServices } from "../services";
import { SESSION_COOKIE } from "./cookie";

export async function currentMe(): Promise<Me> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value ?? null; // first: marks the page dynamic
  const { accounts } = getServices();
  const user = accounts.userForSession(token);
  return { user: user ? { name: user.name } : null, needsSetup: accounts.count() === 0 };
}
