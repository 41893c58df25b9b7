/** What an unknown or malformed share link shows (HTTP 404: notFound() in server/http/sharePage.ts). */
import { ShareRefused } from "@/components/share/SharedView";
import { SHARE_NOT_VALID } from "@/server/http/sharePage";
import "../../views.css";

export default function ShareNotFound() {
  return <ShareRefused revoked={false} message={SHARE_NOT_VALID} />;
}
