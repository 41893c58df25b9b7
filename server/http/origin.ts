/**
 * Cross-site request refusal (CSRF): a request that changes something must come from a
 * page of this dashboard, or from a client that is not a browser.
 *
 * The rule, for every mutating route (tRPC POSTs, the model upload):
 * - `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` or `none`
 *   (typed or bookmarked); `same-site` and `cross-site` are refused.
 * - Otherwise `Origin`, when sent, must be this server's own origin (the Host, or the
 *   X-Forwarded-Host a proxy set) or one listed in CERTPRUNE_ALLOWED_ORIGINS; `null` is refused.
 * - A request with neither header comes from no browser (curl, scripts, `certprune`): a
 *   browser always sends one of them on a cross-origin POST, and such a client holds the
 *   session cookie only if its user gave it one. It is allowed.
 */

/** Null when `req` may change something; otherwise why it is refused (for a 403). */
export function crossSiteRefusal(req: Request, allowedOrigins: string[] = []): string | null {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return null;
    return `refused a ${site} request: changes can only be made from this dashboard's own pages (Sec-Fetch-Site: ${site})`;
  }
  const origin = req.headers.get("origin");
  if (origin === null) return null;
  if (ownOrigins(req).includes(origin) || allowedOrigins.includes(origin)) return null;
  return `refused a request from ${origin}: changes can only be made from this dashboard's own pages; an admin may list other origins in CERTPRUNE_ALLOWED_ORIGINS`;
}

/** The origins this request may have been sent from: scheme and host as the server was reached. */
function ownOrigins(req: Request): string[] {
  const url = new URL(req.url);
  const hosts = [req.headers.get("x-forwarded-host")?.split(",")[0].trim(), req.headers.get("host"), url.host].filter((h): h is string => !!h);
  const forwardedProto = req.headers.get("x-forwarded-proto")?.split(",")[0].trim();
  const schemes = [url.protocol.replace(/:$/, ""), ...(forwardedProto ? [forwardedProto] : [])];
  return hosts.flatMap((host) => schemes.map((scheme) => `${scheme}://${host}`));
}

/** CERTPRUNE_ALLOWED_ORIGINS: origins (scheme://host[:port]) besides the server's own, separated by commas or spaces. */
export function allowedOriginsFrom(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[\s,]+/)
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
}
