import type { Metadata } from "next";
import { ShareList } from "@/components/share/ShareList";
import "../views.css";

export const metadata: Metadata = { title: "Share links · CertPrune" };

export default function SharesPage() {
  return (
    <>
      <div className="page-head">
        <h1>Share links</h1>
        <span className="sub">read-only links you made; anyone with a link sees what it names, without signing in</span>
      </div>
      <section className="panel">
        <ShareList />
      </section>
    </>
  );
}
