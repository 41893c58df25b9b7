/** Any address that leads nowhere (HTTP 404): what happened and where to go instead. */
import Link from "next/link";
import "./views.css";

export default function NotFound() {
  return (
    <div className="panel error-page" role="alert" data-testid="not-found">
      <h1>Nothing here</h1>
      <p>
        There is no page at this address. If it was a run, it may have been deleted, or the link may be
        mistyped (a run&rsquo;s address looks like <code>/runs/run_</code> followed by 16 hexadecimal digits).
      </p>
      <p className="row">
        <Link className="button" href="/">See all runs</Link>
        <Link className="button secondary" href="/runs/new">Launch a run</Link>
        <Link className="button secondary" href="/models/upload">Upload a model</Link>
      </p>
    </div>
  );
}
