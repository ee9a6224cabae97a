import { useState } from "preact/hooks";
import { Api, type Me, messageOf } from "../api";

/**
 * Sign in with an API key or the admin token. The secret is checked with `GET /api/v1/me` and then kept
 * only in this tab's memory (api.ts).
 */
export function SignIn(props: { onSignedIn: (api: Api, me: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("secret") as HTMLInputElement;
    const secret = input.value.trim();
    if (!secret) {
      setError("Enter an API key or the admin token");
      input.focus();
      return;
    }
    setBusy(true);
    try {
      const api = new Api(secret);
      const me = await api.me();
      input.value = "";
      props.onSignedIn(api, me);
    } catch (err) {
      setError(messageOf(err));
      input.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Sign in</h1>
      <form onSubmit={submit} noValidate>
        <div class={`field${error ? " has-error" : ""}`}>
          <label for="secret">API key or admin token</label>
          <input
            id="secret"
            name="secret"
            type="password"
            autoComplete="off"
            spellcheck={false}
            aria-invalid={error ? "true" : undefined}
            aria-describedby={error ? "secret-error secret-help" : "secret-help"}
          />
          <p class="help" id="secret-help">
            Kept in this tab's memory only: closing or reloading the tab signs you out.
          </p>
          {error ? (
            <p class="error" id="secret-error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
