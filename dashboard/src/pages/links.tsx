import { useEffect, useState } from "preact/hooks";
import { type Api, type LinkPage, linkRoute, type Me, messageOf } from "../api";
import { CopyButton } from "../components/copy-button";

type Filters = { q: string; tag: string; sort: "newest" | "clicks"; owner: string; domain: string };

/**
 * The link list: search (slug, target, tag), tag filter, newest or most clicked first, cursor paging. The
 * admin token sees every owner's links, with the owner shown and a filter by owner.
 */
export function Links(props: { api: Api; me: Me }) {
  const [filters, setFilters] = useState<Filters>({
    q: "",
    tag: "",
    sort: "newest",
    owner: "",
    domain: "",
  });
  const [draft, setDraft] = useState<Filters>(filters);
  // Cursors of the pages before this one, so "Previous" goes back without the API paging backwards.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<LinkPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    const query = new URLSearchParams({ limit: "20", sort: filters.sort });
    if (filters.q) query.set("q", filters.q);
    if (filters.tag) query.set("tag", filters.tag);
    if (filters.domain) query.set("domain", filters.domain);
    if (props.me.admin) query.set("owner", filters.owner || "*");
    if (cursor) query.set("cursor", cursor);
    setError(null);
    // Only the newest query may fill the table: an earlier one answered late (Apply, then a new sort at once)
    // would otherwise put back the order the person just left.
    let current = true;
    props.api.list(query).then(
      (answer) => current && setPage(answer),
      (err) => {
        if (!current) return;
        setPage(null);
        setError(messageOf(err));
      },
    );
    return () => {
      current = false;
    };
  }, [props.api, props.me.admin, filters, cursor]);

  const apply = (e: Event) => {
    e.preventDefault();
    setFilters(draft);
    setCursors([undefined]);
  };
  const edit = (name: keyof Filters) => (e: Event) =>
    setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value });

  return (
    <main id="main">
      <div class="title-row">
        <h1>Links</h1>
        <a class="button primary" href="#/new">
          New link
        </a>
      </div>
      <search>
        <form class="filters" onSubmit={apply} aria-label="Filter links">
          <div class="field">
            <label for="filter-q">Search</label>
            <input
              id="filter-q"
              type="search"
              value={draft.q}
              onInput={edit("q")}
              placeholder="slug, URL or tag"
            />
          </div>
          <div class="field">
            <label for="filter-tag">Tag</label>
            <input id="filter-tag" type="text" value={draft.tag} onInput={edit("tag")} />
          </div>
          <div class="field">
            <label for="filter-sort">Sort</label>
            <select
              id="filter-sort"
              value={draft.sort}
              onChange={(e) => {
                const next = {
                  ...draft,
                  sort: (e.currentTarget as HTMLSelectElement).value as Filters["sort"],
                };
                setDraft(next);
                setFilters(next);
                setCursors([undefined]);
              }}
            >
              <option value="newest">Newest first</option>
              <option value="clicks">Most clicked first</option>
            </select>
          </div>
          {props.me.admin ? (
            <div class="field">
              <label for="filter-owner">Owner</label>
              <input
                id="filter-owner"
                type="text"
                value={draft.owner}
                onInput={edit("owner")}
                placeholder="every owner"
              />
            </div>
          ) : null}
          <button type="submit">Apply</button>
        </form>
      </search>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {page ? (
        page.data.length === 0 ? (
          <p>
            No links
            {filters.q || filters.tag || filters.owner || filters.domain ? " match these filters" : " yet"}.
          </p>
        ) : (
          <div class="table-wrap">
            <table class="links">
              <caption class="visually-hidden">
                Links{cursors.length > 1 ? `, page ${cursors.length}` : ""}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Slug</th>
                  <th scope="col">Target</th>
                  <th scope="col">Tags</th>
                  {props.me.admin ? <th scope="col">Owner</th> : null}
                  <th scope="col" class="num">
                    Clicks
                  </th>
                  <th scope="col">Short URL</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((link) => (
                  <tr key={link.id}>
                    <td>
                      <a href={`#${linkRoute(link)}`}>{link.slug}</a>
                    </td>
                    <td class="target" title={link.url}>
                      {link.url}
                    </td>
                    <td>
                      {link.tags.map((t) => (
                        <span class="tag" key={t}>
                          {t}
                        </span>
                      ))}
                    </td>
                    {props.me.admin ? <td>{link.ownerId}</td> : null}
                    <td class="num">{link.clicks ?? 0}</td>
                    <td>
                      <CopyButton text={link.shortUrl} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : error ? null : (
        <p aria-live="polite">Loading…</p>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}
        >
          Next page
        </button>
      </nav>
    </main>
  );
}
