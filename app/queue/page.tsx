import type { Metadata } from "next";
import { QueuePanel } from "@/components/runs/QueuePanel";
import "../views.css";

export const metadata: Metadata = { title: "Queue · CertPrune" };

export default function QueuePage() {
  return (
    <>
      <div className="page-head">
        <h1>Queue</h1>
        <span className="sub">what runs now, what waits, and when it should start</span>
      </div>
      <section className="panel"><QueuePanel /></section>
    </>
  );
}
