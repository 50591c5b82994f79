import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, onSignedOut } from "./api.ts";
import { Environment } from "./pages/environment.tsx";
import { Project } from "./pages/project.tsx";
import { Projects } from "./pages/projects.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { href, useRoute } from "./route.ts";
import type { Me } from "./types.ts";
import "./style.css";

function App() {
  // undefined: not known yet; null: signed out
  const [me, setMe] = useState<Me | null>();
  const [error, setError] = useState<string>();
  const route = useRoute();

  useEffect(() => {
    onSignedOut(() => setMe(null));
    call<Me>("GET", "/console/me").then(setMe, (caught: unknown) => {
      if (caught instanceof ApiError && caught.status === 401) setMe(null);
      else setError(String((caught as Error).message));
    });
  }, []);

  const signOut = async () => {
    await call("POST", "/console/logout").catch(() => {});
    setMe(null);
  };

  if (error) return <p class="error">{error}</p>;
  if (me === undefined) return <p class="muted">Loading…</p>;
  if (me === null) return <SignIn onSignedIn={setMe} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href.projects()}>
          edgeplane
        </a>
        <span class="who" data-testid="who">
          {me.tokenName} · {me.scopes.join(", ")}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      {route.page === "projects" ? <Projects /> : null}
      {route.page === "project" ? <Project project={route.project} /> : null}
      {route.page === "environment" ? (
        <Environment me={me} project={route.project} environment={route.environment} />
      ) : null}
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
