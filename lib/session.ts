/** Who may see which page without signing in: the sign-in page and share links only. */
export const PUBLIC_PATHS = ["/login", "/share"];

export function isPublicPath(pathname: string): boolean {
  return PUBLIC_PATHS.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

/** What `auth.me` answers. */
export interface Me {
  user: { name: string } | null;
  needsSetup: boolean;
}
