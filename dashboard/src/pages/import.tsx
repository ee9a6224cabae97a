import Papa from "papaparse";
import { useState } from "preact/hooks";
import { type Api, type BulkResult, linkRoute, messageOf } from "../api";

/** Columns a CSV may have: the create body's fields. Tags are separated by `|` or `;` inside their cell. */
const COLUMNS = [
  "url",
  "domain",
  "slug",
  "statusCode",
  "expiresAt",
  "maxClicks",
  "tags",
  "externalId",
  "password",
];
const BULK_MAX = 100;

type RowResult = { row: number; slug?: string; domain?: string; shortUrl?: string; error?: string };

/** A CSV row as a create body: empty cells left out, numbers and tags converted. */
function toItem(row: Record<string, string>): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(row)) {
    const value = raw?.trim() ?? "";
    if (value === "") continue;
    if (column === "statusCode" || column === "maxClicks") item[column] = Number(value);
    else if (column === "tags")
      item[column] = value
        .split(/[|;]/)
        .map((t) => t.trim())
        .filter(Boolean);
    else item[column] = value;
  }
  return item;
}

/** Bulk import from a CSV file through `POST /api/v1/links/bulk`, 100 rows a request, with a result per row. */
export function Import(props: { api: Api }) {
  const [results, setResults] = useState<RowResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("csv") as HTMLInputElement;
    const file = input.files?.[0];
    setError(null);
    setResults(null);
    if (!file) {
      setError("Choose a CSV file");
      input.focus();
      return;
    }
    setBusy(true);
    try {
      const parsed = Papa.parse<Record<string, string>>(await file.text(), {
        header: true,
        skipEmptyLines: "greedy",
        transformHeader: (h) => h.trim(),
      });
      const unknown = (parsed.meta.fields ?? []).filter((f) => !COLUMNS.includes(f));
      if (!parsed.meta.fields?.includes("url"))
        throw new Error("the CSV needs a header row with a url column");
      if (unknown.length)
        throw new Error(`unknown columns: ${unknown.join(", ")} (known: ${COLUMNS.join(", ")})`);
      const items = parsed.data.map(toItem);
      const out: RowResult[] = [];
      for (let start = 0; start < items.length; start += BULK_MAX) {
        const chunk: BulkResult = await props.api.bulk(items.slice(start, start + BULK_MAX));
        for (const r of chunk.results) {
          // Row numbers as a spreadsheet shows them: the header is row 1.
          const row = start + r.index + 2;
          if (r.link) out.push({ row, slug: r.link.slug, domain: r.link.domain, shortUrl: r.link.shortUrl });
          else {
            const fields = r.error?.errors?.map((p) => `${p.path}: ${p.message}`).join("; ");
            out.push({ row, error: fields || r.error?.detail || r.error?.title || `status ${r.status}` });
          }
        }
      }
      setResults(out);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const failed = results?.filter((r) => r.error).length ?? 0;
  return (
    <main id="main">
      <h1>Import links from CSV</h1>
      <p>
        A header row, then one link per row. Columns: <code>{COLUMNS.join(", ")}</code> (only <code>url</code>{" "}
        is required; tags separated by <code>|</code>). Each row is created or refused on its own.
      </p>
      <form onSubmit={submit} class="import-form">
        <div class="field">
          <label for="csv">CSV file</label>
          <input id="csv" name="csv" type="file" accept=".csv,text/csv" />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Import
        </button>
      </form>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {results ? (
        <section aria-labelledby="import-results">
          <h2 id="import-results">
            <span role="status">
              {results.length - failed} created, {failed} failed
            </span>
          </h2>
          <div class="table-wrap">
            <table data-testid="import-results">
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Row
                  </th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {results.map((r) => (
                  <tr key={r.row} class={r.error ? "failed" : "created"}>
                    <td class="num">{r.row}</td>
                    <td>
                      {r.error ? (
                        <span class="error">Failed: {r.error}</span>
                      ) : (
                        <>
                          Created{" "}
                          <a href={`#${linkRoute({ slug: r.slug ?? "", domain: r.domain })}`}>{r.slug}</a>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </main>
  );
}
