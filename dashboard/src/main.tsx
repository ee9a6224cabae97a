import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Api, linkRoute, type Me, setDefaultDomain } from "./api";
import { LinkForm } from "./components/link-form";
import { Home } from "./pages/home";
import { Import } from "./pages/import";
import { LinkView } from "./pages/link";
import { Links } from "./pages/links";
import { SignIn } from "./pages/sign-in";
import { match, navigate, queryOf, useHashPath } from "./router";
import "./style.css";

type Session = { api: Api; me: Me };

/**
 * The dashboard: a sign-in, then the pages of the hash routes. The session (the secret inside `Api`) is
 * component state: signing out or reloading drops it, and nothing is written to any browser storage.
 */
function App() {
  const [session, setSession] = useState<Session | null>(null);
  const path = useHashPath();

  useEffect(() => {
    // Every route change moves focus to the new page's heading, as a page load would.
    const heading = document.querySelector<HTMLElement>("main h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  }, [path, session]);

  if (!session) {
    return (
      <>
        <Header />
        <SignIn
          onSignedIn={(api, me) => {
            setDefaultDomain(me.defaultDomain);
            setSession({ api, me });
          }}
        />
      </>
    );
  }
  const { api, me } = session;
  const signOut = () => {
    setDefaultDomain(undefined);
    setSession(null);
    navigate("/");
  };

  const page = pageFor(path, api, me);
  return (
    <>
      <Header path={path} who={me.admin ? "admin token" : me.ownerId} onSignOut={signOut} />
      {page}
    </>
  );
}

function pageFor(path: string, api: Api, me: Me) {
  if (path === "/") return <Home api={api} me={me} />;
  if (path.split("?")[0] === "/links") return <Links api={api} me={me} />;
  if (path === "/new")
    return (
      <main id="main">
        <h1>New link</h1>
        <LinkForm api={api} onSaved={(link) => navigate(linkRoute(link))} />
      </main>
    );
  if (path === "/import") return <Import api={api} />;
  const domain = queryOf(path).get("domain") ?? undefined;
  const edit = match("/links/:slug/edit", path);
  if (edit) return <LinkView api={api} me={me} slug={edit.slug as string} domain={domain} editing />;
  const view = match("/links/:slug", path);
  if (view)
    return (
      <LinkView
        key={`${domain}/${view.slug}`}
        api={api}
        me={me}
        slug={view.slug as string}
        domain={domain}
        editing={false}
      />
    );
  return (
    <main id="main">
      <h1>Not found</h1>
      <a href="#/">Back to the overview</a>
    </main>
  );
}

function Header(props: { path?: string; who?: string; onSignOut?: () => void }) {
  const current = (p: string) =>
    props.path !== undefined && (props.path === p || (p !== "/" && props.path.startsWith(p)))
      ? ("page" as const)
      : undefined;
  return (
    <header class="top">
      <button
        type="button"
        class="skip"
        onClick={() => {
          const main = document.getElementById("main");
          main?.setAttribute("tabindex", "-1");
          main?.focus();
        }}
      >
        Skip to the content
      </button>
      <span class="brand">Edge redirect</span>
      {props.onSignOut ? (
        <nav aria-label="Main">
          <a href="#/" aria-current={current("/")}>
            Overview
          </a>
          <a href="#/links" aria-current={current("/links")}>
            Links
          </a>
          <a href="#/new" aria-current={current("/new")}>
            New link
          </a>
          <a href="#/import" aria-current={current("/import")}>
            Import
          </a>
          <a href="/docs/">API reference</a>
        </nav>
      ) : (
        <nav aria-label="Main">
          <a href="/docs/">API reference</a>
        </nav>
      )}
      {props.onSignOut ? (
        <div class="who">
          <span class="muted">{props.who}</span>
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      ) : null}
    </header>
  );
}

const root = document.getElementById("app") as HTMLElement;
// The "Loading…" line the HTML shows until this script runs; render would keep it beside the app.
root.replaceChildren();
render(<App />, root);
