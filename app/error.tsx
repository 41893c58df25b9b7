"use client";
/**
 * What a page shows when drawing it failed (an error thrown while rendering): what went
 * wrong in words, a way to try again, and a way out. The details go to the browser console.
 */
import Link from "next/link";
import { useEffect } from "react";
import { sentence } from "@/lib/format";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="panel error-page" role="alert" data-testid="error-page">
      <h1>This page could not be shown</h1>
      <p>{error.message ? sentence(error.message) : "Something went wrong while drawing it."}</p>
      <p className="muted">
        Nothing was lost: runs keep going on the server whatever this page does.
        {error.digest ? ` If it happens again, tell the operator the error code ${error.digest} (it is in the server's log).` : ""}
      </p>
      <p className="row">
        <button onClick={reset}>Try again</button>
        <Link className="button secondary" href="/">See all runs</Link>
      </p>
    </div>
  );
}
