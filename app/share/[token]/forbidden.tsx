/** What a revoked share link shows (HTTP 403: forbidden() in server/http/sharePage.ts). */
import { ShareRefused } from "@/components/share/SharedView";
import { SHARE_REVOKED } from "@/server/http/sharePage";
import "../../views.css";

export default function ShareForbidden() {
  return <ShareRefused revoked message={SHARE_REVOKED} />;
}
