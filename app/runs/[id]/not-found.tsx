/** /runs/<id> for a run that does not exist (HTTP 404). */
import Link from "next/link";
import "../../views.css";

export default function RunNotFound() {
  return (
    <div className="panel error-page" role="alert" data-testid="run-not-found">
      <h1>No such run</h1>
      <p>
        There is no run at this address: it may have been deleted by its owner, or the link is mistyped
        (a run&rsquo;s id is <code>run_</code> followed by 16 hexadecimal digits).
      </p>
      <p className="row">
        <Link className="button" href="/">See all runs</Link>
        <Link className="button secondary" href="/runs/new">Launch a run</Link>
      </p>
    </div>
  );
}
