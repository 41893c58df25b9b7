import { LaunchForm } from "@/components/launch/LaunchForm";

export default function LaunchPage() {
  return (
    <>
      <h1>Launch a run</h1>
      <LaunchForm />
    </>
  );
}
