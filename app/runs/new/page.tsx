import type { Metadata } from "next";
import { LaunchForm } from "@/components/launch/LaunchForm";
import "../../views.css";

export const metadata: Metadata = { title: "Launch · CertPrune" };

export default function LaunchPage() {
  return (
    <>
      <div className="page-head">
        <h1>Launch a run</h1>
        <span className="sub">pick a preset, tick the pruning methods to compare, adjust the settings</span>
      </div>
      <LaunchForm />
    </>
  );
}
