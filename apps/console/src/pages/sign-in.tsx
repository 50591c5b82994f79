import { useState } from "preact/hooks";
import { ApiError, call } from "../api.ts";
import type { Me } from "../types.ts";

/**
 * The token is posted once: the API answers with an HttpOnly session cookie, and the field is
 * emptied. Nothing keeps the token in the page or the browser's storage.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = form.elements.namedItem("token") as HTMLInputElement;
    const token = field.value.trim();
    field.value = "";
    if (!token) return;
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await call<Me>("POST", "/console/session", { token }));
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? "That token is unknown or revoked."
          : String((caught as Error).message),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>edgeplane</h1>
      <form onSubmit={submit} autocomplete="off">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <p class="muted">
          The admin token (<code>.edgeplane/admin-token</code>) or one made with <code>POST /v1/tokens</code>.
        </p>
      </form>
    </main>
  );
}
