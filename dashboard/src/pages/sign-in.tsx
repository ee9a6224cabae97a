import { useState } from "preact/hooks";
import { Api, type Me, messageOf } from "../api";

/**
 * Why `secret` cannot be a key or token, or null. A header value with a character outside Latin-1 makes the
 * browser refuse the request with its own message, and none of them would be valid anyway: an API key is
 * `lk_` and 32 ASCII letters and digits (shared/api-keys.ts); the admin token is an ASCII header value.
 */
export function secretProblem(secret: string): string | null {
  const odd = [...secret].find((c) => c < "!" || c > "~");
  if (odd === undefined) return null;
  const shown = /\s/.test(odd) ? "a space or line break" : `"${odd}"`;
  return (
    `An API key has only ASCII letters, digits and _ (lk_ and 32 letters or digits), and the admin token only ` +
    `printable ASCII characters; this one has ${shown}. Paste the key alone.`
  );
}

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
    const odd = secretProblem(secret);
    if (odd) {
      setError(odd);
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
