import { Suspense } from "react";
import { About } from "@/components/runs/About";
import { SignInForm } from "@/components/auth/SignInForm";

export const metadata = { title: "Sign in · CertPrune" };

export default function LoginPage() {
  return (
    <>
      <Suspense>
        <SignInForm />
      </Suspense>
      <About />
    </>
  );
}
