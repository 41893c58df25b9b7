/**
 * The share pages' gate (/share/<token> and its inspector): a revoked link answers HTTP 403
 * and an unknown or malformed one 404, with the page's explanation, rather than a 200 page
 * whose contents then say no. Needs `experimental.authInterrupts` (next.config.js).
 */
import { forbidden, notFound } from "next/navigation";
import type { Services } from "../services";
import type { Share } from "../store/shares";

export const SHARE_NOT_VALID = "this share link is not valid: check that it was copied whole";
export const SHARE_REVOKED = "this share link was revoked by the researcher who made it";

export function shareForPage(services: Services, token: string): Share {
  const share = services.shares.byToken(token);
  if (!share) notFound();
  if (share.revokedAt !== null) forbidden();
  return share;
}
