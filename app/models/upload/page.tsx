import type { Metadata } from "next";
import { UploadForm } from "@/components/audit/UploadForm";
import { maxUploadBytes } from "@/server/models/upload";
import "../../views.css";

export const metadata: Metadata = { title: "Verify your model · CertPrune" };
export const dynamic = "force-dynamic";

export default function UploadPage() {
  return (
    <>
      <div className="page-head">
        <h1>Verify your own model</h1>
        <span className="sub">upload a pruned network as ONNX; CertPrune verifies it and audits the result like any run</span>
      </div>
      <UploadForm maxBytes={maxUploadBytes()} />
    </>
  );
}
