import { useEffect, useRef, useState } from "preact/hooks";
import { type Api, type Link, linkRoute, type Me, messageOf } from "../api";
import { CopyButton } from "../components/copy-button";
import { LinkForm } from "../components/link-form";
import { QrPanel } from "../components/qr-panel";
import { StatsPanel } from "../components/stats-panel";
import { navigate } from "../router";

/** One link: its fields, short URL, QR code and stats; edit and delete (after a confirmation). */
export function LinkView(props: { api: Api; me: Me; slug: string; domain?: string; editing: boolean }) {
  const [link, setLink] = useState<Link | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    setLink(null);
    props.api.get(props.slug, props.domain).then(setLink, (err) => setError(messageOf(err)));
  }, [props.api, props.slug, props.domain]);

  const remove = async () => {
    dialog.current?.close();
    try {
      await props.api.remove(props.slug, props.domain);
      navigate(`/links?deleted=${encodeURIComponent(props.slug)}`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  if (error) {
    return (
      <main id="main">
        <h1>{props.slug}</h1>
        <p role="alert" class="error">
          {error}
        </p>
        <a href="#/links">Back to the links</a>
      </main>
    );
  }
  if (!link)
    return (
      <main id="main">
        <p aria-live="polite">Loading…</p>
      </main>
    );

  if (props.editing) {
    return (
      <main id="main">
        <h1>Edit {link.slug}</h1>
        <LinkForm
          api={props.api}
          link={link}
          domain={props.domain}
          onSaved={(saved) => {
            setLink(saved);
            setNotice("Saved.");
            navigate(linkRoute(saved));
          }}
          onCancel={() => navigate(linkRoute(link))}
        />
      </main>
    );
  }

  return (
    <main id="main">
      <div class="title-row">
        <h1>{link.slug}</h1>
        <div class="actions">
          <a class="button" href={`#${linkRoute(link, "/edit")}`}>
            Edit
          </a>
          <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
            Delete
          </button>
        </div>
      </div>
      {notice ? (
        <p role="status" class="notice">
          {notice}
        </p>
      ) : null}
      <dl class="details">
        <dt>Short URL</dt>
        <dd>
          <a href={link.shortUrl} data-testid="short-url">
            {link.shortUrl}
          </a>{" "}
          <CopyButton text={link.shortUrl} />
        </dd>
        {link.domain ? (
          <>
            <dt>Domain</dt>
            <dd>{link.domain}</dd>
          </>
        ) : null}
        <dt>Target</dt>
        <dd class="target">{link.url}</dd>
        <dt>Status</dt>
        <dd>{link.statusCode}</dd>
        <dt>Expires</dt>
        <dd>{link.expiresAt ? new Date(link.expiresAt).toLocaleString() : "never"}</dd>
        <dt>Click limit</dt>
        <dd>{link.maxClicks ?? "none"}</dd>
        <dt>Tags</dt>
        <dd>
          {link.tags.length
            ? link.tags.map((t) => (
                <span class="tag" key={t}>
                  {t}
                </span>
              ))
            : "none"}
        </dd>
        <dt>Password</dt>
        <dd>{link.passwordProtected ? "required" : "none"}</dd>
        <dt>Query forwarding</dt>
        <dd>
          {link.forwardQuery === true
            ? "on"
            : link.forwardQuery === false
              ? "off"
              : "as the service is set up"}
        </dd>
        {link.utm && Object.keys(link.utm).length ? (
          <>
            <dt>UTM</dt>
            <dd>
              {Object.entries(link.utm)
                .map(([k, v]) => `utm_${k}=${v}`)
                .join(" & ")}
            </dd>
          </>
        ) : null}
        {link.preview ? (
          <>
            <dt>Preview</dt>
            <dd>
              {[link.preview.title, link.preview.description, link.preview.image].filter(Boolean).join(" — ")}
            </dd>
          </>
        ) : null}
        {link.rules?.length ? (
          <>
            <dt>Rules</dt>
            <dd>
              <ol class="rules">
                {link.rules.map((rule) => (
                  <li key={rule.id}>
                    <code>{JSON.stringify(rule.when)}</code> → {rule.url}
                    {rule.statusCode ? ` (${rule.statusCode})` : ""}
                  </li>
                ))}
              </ol>
            </dd>
          </>
        ) : null}
        {link.externalId ? (
          <>
            <dt>External id</dt>
            <dd>{link.externalId}</dd>
          </>
        ) : null}
        {props.me.admin ? (
          <>
            <dt>Owner</dt>
            <dd>{link.ownerId}</dd>
          </>
        ) : null}
        <dt>Created</dt>
        <dd>{new Date(link.createdAt).toLocaleString()}</dd>
      </dl>
      <StatsPanel api={props.api} slug={link.slug} domain={props.domain} />
      <QrPanel api={props.api} slug={link.slug} domain={props.domain} />
      <dialog ref={dialog} aria-labelledby="delete-title">
        <h2 id="delete-title">Delete {link.slug}?</h2>
        <p>The short URL stops working at once; its clicks stay in the stats. The slug becomes free again.</p>
        <div class="actions">
          <button type="button" class="danger" onClick={remove}>
            Delete the link
          </button>
          <button type="button" onClick={() => dialog.current?.close()} autofocus>
            Keep it
          </button>
        </div>
      </dialog>
    </main>
  );
}
