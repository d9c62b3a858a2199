import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <>
      <title>Not found — Airlock</title>
      <h1 tabIndex={-1}>No such page</h1>
      <p>
        Nothing lives at this address. <Link to="/jobs">Go to the jobs</Link>.
      </p>
    </>
  );
}
