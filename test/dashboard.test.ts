import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openTab, screenshot, type Tab } from "./browser/chromium";
import {
  downloadOf,
  fillAndSubmitNew,
  follow,
  readPngQr,
  readShownQr,
  seriesTotal,
  signIn,
  signOut,
  TARGET_ORIGIN,
  waitForClicks,
} from "./browser/dashboard-flow";
import { ADMIN_TOKEN, type Stack, startStack } from "./stack";

/**
 * The dashboard in a real headless Chromium against the stack `npm run dev` runs (the edge and aggregator
 * bundles under workerd, Postgres, Redis): a person's whole round, a second owner, and the signed-out page.
 */

let stack: Stack;
let origin: string;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
const run = crypto.randomUUID().slice(0, 6);
const SCOPES = ["links:read", "links:write", "stats:read"];

async function keyFor(ownerId: string): Promise<string> {
  const res = await stack.api("POST", "/keys", { name: `dashboard ${ownerId}`, scopes: SCOPES, ownerId });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

beforeAll(async () => {
  [stack, chromium] = await Promise.all([startStack({ consumer: "aggregator" }), launchChromium()]);
  browser = chromium.browser;
  origin = (await stack.mf.ready).origin;
}, 120_000);
afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

// A browser round trip is many requests: on a loaded machine (the whole suite on two cores) a step can take long.
describe("the dashboard in Chromium", { timeout: 120_000 }, () => {
  let alice: string;
  let tab: Tab;
  const slug = `ui-${run}`;
  let shortUrl = "";

  beforeAll(async () => {
    alice = await keyFor(`alice-${run}`);
    tab = await openTab(browser, { name: "flow" });
  });
  afterAll(() => tab?.context.close());

  it("refuses a wrong key, then signs in with a good one", async () => {
    const { page, step } = tab;
    await step("wrong key", async () => {
      await page.goto(`${origin}/dashboard/`);
      await page.getByLabel("API key or admin token").fill("not-a-key");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("not valid");
    });
    await step("a key pasted with other text", async () => {
      // A non-Latin character: the browser itself would refuse to send it as a header (outside Latin-1).
      await page.getByLabel("API key or admin token").fill(`${alice}ж`);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect
        .poll(() => page.getByRole("alert").textContent())
        .toMatch(/^An API key has only ASCII letters, digits and _ .*this one has "ж"/);
      expect(await page.getByLabel("API key or admin token").getAttribute("aria-invalid")).toBe("true");
    });
    await step("sign in", async () => {
      // Spaces around the key are dropped: the key alone signs in.
      await page.getByLabel("API key or admin token").fill(`  ${alice} `);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Sign out" }).waitFor();
    });
    await step("overview", () => page.getByRole("heading", { name: "Top links" }).waitFor());
    await screenshot(page, "overview");
  });

  it("shows the API's validation errors beside the fields, then creates the link", async () => {
    const { page, step } = tab;
    await step("invalid", async () => {
      await page.getByRole("link", { name: "New link", exact: true }).first().click();
      await fillAndSubmitNew(page, { url: "ftp://example.com/file", slug: "no spaces" });
      await expect.poll(() => page.getByLabel("Target URL").getAttribute("aria-invalid")).toBe("true");
      expect(await page.getByLabel("Slug").getAttribute("aria-invalid")).toBe("true");
      expect(await page.locator("#field-slug-error").textContent()).toContain("A-Z a-z 0-9");
      expect(await page.locator("#field-url-error").textContent()).toMatch(/http/);
      // Focus went to the first field in error, for keyboard and screen-reader users.
      expect(await page.evaluate("document.activeElement?.id")).toBe("field-url");
      await screenshot(page, "create-errors");
    });
    shortUrl = await step("valid", async () => {
      await fillAndSubmitNew(page, { url: `${TARGET_ORIGIN}/landing`, slug, tags: "launch, ui" });
      await page.getByRole("heading", { level: 1, name: slug }).waitFor();
      return (await page.getByTestId("short-url").textContent()) ?? "";
    });
    expect(shortUrl).toBe(`${origin}/${slug}`);
  });

  it("shows a QR code that decodes to the short URL", async () => {
    expect(await tab.step("qr", () => readShownQr(tab.page))).toBe(shortUrl);
  });

  it("copies the short URL, and downloads the QR code as SVG and as a PNG that decodes to it", async () => {
    const { page, step } = tab;
    await step("copy", async () => {
      await page.evaluate(`navigator.clipboard.writeText("before")`);
      await page.getByRole("button", { name: `Copy ${shortUrl}` }).click();
      await expect.poll(() => page.evaluate("navigator.clipboard.readText()")).toBe(shortUrl);
      expect(await page.getByRole("button", { name: `Copy ${shortUrl}` }).textContent()).toContain("Copied");
    });
    const svg = await step("svg", () => downloadOf(page, "Download SVG"));
    expect(svg.name).toBe(`${slug}-qr.svg`);
    expect(svg.bytes.toString("utf8")).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    const png = await step("png", () => downloadOf(page, "Download PNG"));
    expect(png.name).toBe(`${slug}-qr.png`);
    expect(readPngQr(png.bytes)).toBe(shortUrl);
  });

  it("counts a visit of the short URL and shows it in the stats chart", async () => {
    const { page, step } = tab;
    expect(await step("follow", () => follow(page, shortUrl))).toBe(`${TARGET_ORIGIN}/landing`);
    await step("stats", async () => {
      await waitForClicks(page, 1);
      await page.getByText("Clicks per day as a table").click();
      expect(await seriesTotal(page)).toBe(1);
      expect(await page.locator(".chart canvas").count()).toBeGreaterThan(0);
      expect(await page.locator(".stats .card", { hasText: "Humans" }).locator("dd").textContent()).toBe("1");
      // The API's "(none)" said in words: a click on the default domain, no referrer, no rule.
      const breakdown = (title: string) => page.locator(".breakdown", { hasText: title }).locator("tbody");
      expect(await breakdown("Domains").textContent()).toContain("(the default domain)");
      expect(await breakdown("Top referrers").textContent()).toContain("(none: typed or bookmarked)");
      expect(await breakdown("Redirect rules").textContent()).toContain("(none: the link's own target)");
      await screenshot(page, "link");
    });
  });

  it("edits the link", async () => {
    const { page, step } = tab;
    await step("edit", async () => {
      await page.getByRole("link", { name: "Edit" }).click();
      await page.getByLabel("Target URL").fill(`${TARGET_ORIGIN}/edited`);
      await page.getByLabel("Tags").fill("launch, edited");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
      await expect.poll(() => page.locator("dd.target").textContent()).toBe(`${TARGET_ORIGIN}/edited`);
    });
    expect(await follow(page, shortUrl)).toBe(`${TARGET_ORIGIN}/edited`);
  });

  it("imports a CSV of three rows, one of them bad, with a result per row", async () => {
    const { page, step } = tab;
    await step("import", async () => {
      await page.getByRole("link", { name: "Import" }).click();
      const csv = [
        "url,slug,tags",
        `${TARGET_ORIGIN}/one,csv1-${run},imported|csv`,
        `not a url,csv-bad-${run},`,
        `${TARGET_ORIGIN}/three,csv3-${run},imported`,
      ].join("\n");
      await page
        .getByLabel("CSV file")
        .setInputFiles({ name: "links.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
      await page.getByRole("button", { name: "Import" }).click();
      await expect.poll(() => page.getByRole("status").textContent()).toBe("2 created, 1 failed");
      const rows = await page.getByTestId("import-results").locator("tbody tr").allTextContents();
      expect(rows).toHaveLength(3);
      expect(rows[0]).toContain(`Created csv1-${run}`);
      expect(rows[1]).toMatch(/^3Failed: url: /);
      expect(rows[2]).toContain(`Created csv3-${run}`);
      await screenshot(page, "import");
    });
    const listed = await stack.api("GET", `/links?owner=alice-${run}&tag=imported`);
    expect(((await listed.json()) as { data: unknown[] }).data).toHaveLength(2);
  });

  it("lists, searches and sorts the owner's links", async () => {
    const { page, step } = tab;
    await step("list", async () => {
      await page.getByRole("link", { name: "Links", exact: true }).click();
      await expect.poll(() => page.locator("table.links tbody tr").count()).toBe(3);
      await page.getByLabel("Search").fill("csv3");
      await page.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => page.locator("table.links tbody tr").count()).toBe(1);
      // The newest-first list answers late, after the sort by clicks asked next: the late answer must not win.
      await page.route("**/api/v1/links?*sort=newest*", async (route) => {
        const answer = await route.fetch();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await route.fulfill({ response: answer });
      });
      const lateAnswer = page.waitForResponse((r) => r.url().includes("sort=newest"));
      await page.getByLabel("Search").fill("");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.getByLabel("Sort").selectOption("clicks");
      await lateAnswer;
      await page.unroute("**/api/v1/links?*sort=newest*");
      const firstSlug = () =>
        page.locator("table.links tbody tr").first().locator("td").first().textContent();
      await expect.poll(firstSlug).toBe(slug);
      // Let the page handle the late answer (a moment), then the order must still be by clicks.
      await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
      expect(await firstSlug()).toBe(slug);
      await screenshot(page, "links");
    });
  });

  it("deletes the link after a confirmation", async () => {
    const { page, step } = tab;
    await step("delete", async () => {
      await page.getByRole("link", { name: slug, exact: true }).click();
      await page.getByRole("button", { name: "Delete" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      await dialog.getByRole("button", { name: "Delete the link" }).click();
      await page.getByRole("heading", { name: "Links" }).waitFor();
      await expect.poll(() => page.locator("table.links tbody tr").count()).toBe(2);
    });
    expect((await stack.fetch(`/${slug}`)).status).toBe(404);
  });

  it("a second owner's key sees none of the first owner's links", async () => {
    const bob = await keyFor(`bob-${run}`);
    const other = await openTab(browser, { name: "second-owner" });
    try {
      await other.step("bob", async () => {
        const { page } = other;
        await signIn(page, origin, bob);
        await page.getByRole("link", { name: "Links", exact: true }).click();
        await page.getByText("No links yet.").waitFor();
        await page.getByLabel("Search").fill(run);
        await page.getByRole("button", { name: "Apply" }).click();
        await page.getByText("No links match these filters.").waitFor();
        // Alice's link, asked for by name (a change of the hash keeps the page and its key).
        await page.goto(`${origin}/dashboard/#/links/csv1-${run}`);
        await expect
          .poll(() => page.getByRole("alert").textContent())
          .toContain(`no link with slug "csv1-${run}"`);
      });
    } finally {
      await other.context.close();
    }
  });

  it("the admin token sees every owner's links, with the owner shown and filterable", async () => {
    const admin = await openTab(browser, { name: "admin" });
    try {
      await admin.step("admin", async () => {
        const { page } = admin;
        await signIn(page, origin, ADMIN_TOKEN);
        await page.getByRole("link", { name: "Links", exact: true }).click();
        await page.getByRole("columnheader", { name: "Owner" }).waitFor();
        await page.getByLabel("Owner").fill(`alice-${run}`);
        await page.getByRole("button", { name: "Apply" }).click();
        await expect.poll(() => page.locator("table.links tbody tr").count()).toBe(2);
        const owners = await page.locator("table.links tbody tr td:nth-child(4)").allTextContents();
        expect(owners).toEqual([`alice-${run}`, `alice-${run}`]);
        await screenshot(page, "admin-links");
      });
    } finally {
      await admin.context.close();
    }
  });

  it("sets rules, UTM, a preview, query forwarding and a password, with errors beside the right field", async () => {
    const form = await openTab(browser, { name: "link-options" });
    const optSlug = `opts-${run}`;
    // On a second short domain (#16): every request of the link page must name it.
    const domain = `go-${run}.example`;
    expect((await stack.api("POST", "/domains", { name: domain })).status).toBe(201);
    try {
      await form.step("options", async () => {
        const { page } = form;
        await signIn(page, origin, ADMIN_TOKEN);
        await page.getByRole("link", { name: "New link", exact: true }).first().click();
        await page.getByLabel("Target URL").fill(`${TARGET_ORIGIN}/base`);
        await page.getByLabel("Slug").fill(optSlug);
        await page.getByLabel("Short domain").fill(domain);
        // Caught in the page: JSON that does not parse.
        await page.getByLabel("Rules (JSON)").fill("[{");
        await page.getByRole("button", { name: "Create link" }).click();
        await expect.poll(() => page.locator("#field-rules-error").textContent()).toBe("is not valid JSON");
        // Caught by the API, at rules.0.url: shown beside Rules, naming the rule's key.
        await page
          .getByLabel("Rules (JSON)")
          .fill('[{"when": {"device": ["ios"]}, "url": "ftp://x.example/"}]');
        await page.getByRole("button", { name: "Create link" }).click();
        await expect.poll(() => page.locator("#field-rules-error").textContent()).toMatch(/^0\.url: /);
        await page
          .getByLabel("Rules (JSON)")
          .fill(`[{"id": "ios", "when": {"device": ["ios"]}, "url": "${TARGET_ORIGIN}/ios"}]`);
        await page.getByLabel("utm_source").fill("newsletter");
        await page.getByLabel("Preview title").fill("Launch");
        await page.getByLabel("Forward the query string").selectOption("true");
        await page.getByLabel("Password").fill("open sesame");
        await page.getByRole("button", { name: "Create link" }).click();
        await page.getByRole("heading", { level: 1, name: optSlug }).waitFor();
        expect(await page.locator(".details").textContent()).toContain("utm_source=newsletter");
        const shortUrl = await page.getByTestId("short-url").textContent();
        expect(shortUrl).toContain(`//${domain}`);
        expect(await readShownQr(page)).toBe(shortUrl);
      });
      const get = () => stack.api("GET", `/links/${optSlug}?domain=${domain}`);
      const link = (await (await get()).json()) as Record<string, unknown>;
      expect(link).toMatchObject({
        domain,
        rules: [{ id: "ios", when: { device: ["ios"] }, url: `${TARGET_ORIGIN}/ios` }],
        utm: { source: "newsletter" },
        preview: { title: "Launch" },
        forwardQuery: true,
        passwordProtected: true,
      });
      await form.step("clear", async () => {
        const { page } = form;
        await page.getByRole("link", { name: "Edit" }).click();
        await page.getByLabel("utm_source").fill("");
        await page.getByLabel("Rules (JSON)").fill("");
        await page.getByRole("button", { name: "Save changes" }).click();
        // Exact: the edit page's own heading, "Edit <slug>", would match at once, before the save lands.
        await page.getByRole("heading", { level: 1, name: optSlug, exact: true }).waitFor();
      });
      const edited = (await (await get()).json()) as Record<string, unknown>;
      // Emptied fields are cleared; the password, left empty, is kept.
      expect(edited).toMatchObject({
        rules: [],
        utm: null,
        preview: { title: "Launch" },
        passwordProtected: true,
      });
    } finally {
      await form.context.close();
    }
  });

  it("removes a link's password from the edit form: the short URL then redirects without the form", async () => {
    const pw = await openTab(browser, { name: "password" });
    const pwSlug = `pw-${run}`;
    /** Where a visitor of the short URL lands, and the title of that page. */
    const visit = async (url: string) => {
      const visitor = await pw.context.newPage();
      try {
        await visitor.goto(url);
        return { url: visitor.url(), title: await visitor.title() };
      } finally {
        await visitor.close();
      }
    };
    try {
      const { page, step } = pw;
      const pwUrl = await step("protect", async () => {
        await signIn(page, origin, ADMIN_TOKEN);
        await page.getByRole("link", { name: "New link", exact: true }).first().click();
        await page.getByLabel("Target URL").fill(`${TARGET_ORIGIN}/secret`);
        await page.getByLabel("Slug").fill(pwSlug);
        await page.getByLabel("Password", { exact: true }).fill("open sesame");
        await page.getByRole("button", { name: "Create link" }).click();
        await page.getByRole("heading", { level: 1, name: pwSlug }).waitFor();
        return (await page.getByTestId("short-url").textContent()) ?? "";
      });
      expect(await visit(pwUrl)).toEqual({ url: pwUrl, title: "Password required" });
      await step("remove", async () => {
        await page.getByRole("link", { name: "Edit" }).click();
        await page.getByLabel("Remove the password").check();
        await screenshot(page, "edit-password");
        await page.getByRole("button", { name: "Save changes" }).click();
        await page.getByRole("heading", { level: 1, name: pwSlug, exact: true }).waitFor();
        await expect.poll(() => page.locator(".details").textContent()).toMatch(/Password\s*none/);
        // No password left: nothing to remove.
        await page.getByRole("link", { name: "Edit" }).click();
        await page.getByRole("button", { name: "Save changes" }).waitFor();
        expect(await page.getByLabel("Remove the password").count()).toBe(0);
      });
      expect((await visit(pwUrl)).url).toBe(`${TARGET_ORIGIN}/secret`);
      const link = (await (await stack.api("GET", `/links/${pwSlug}`)).json()) as Record<string, unknown>;
      expect(link.passwordProtected).toBe(false);
      expect(pw.problems).toEqual([]);
    } finally {
      await pw.context.close();
    }
  });

  it("works by keyboard alone at a phone's width (390 px), without sideways scrolling", async () => {
    const phone = await openTab(browser, { name: "phone", width: 390 });
    try {
      await phone.step("phone", async () => {
        const { page } = phone;
        await page.goto(`${origin}/dashboard/`);
        // Keyboard only: Tab to the key field, type, Enter.
        for (let i = 0; i < 5 && (await page.evaluate("document.activeElement?.id")) !== "secret"; i++) {
          await page.keyboard.press("Tab");
        }
        expect(await page.evaluate("document.activeElement?.id")).toBe("secret");
        await page.keyboard.type(alice);
        await page.keyboard.press("Enter");
        await page.getByRole("heading", { name: "Overview" }).waitFor();
        await page.goto(`${origin}/dashboard/#/links/csv1-${run}`);
        await page.getByRole("heading", { level: 1, name: `csv1-${run}` }).waitFor();
        await page.getByRole("img", { name: /QR code/ }).waitFor();
        await page.locator(".stats .card").first().waitFor();
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
        await screenshot(page, "phone-link");
        // A row wider than the phone: the table scrolls inside its box, the page does not (the Copy
        // buttons' hidden live regions are clipped by that box too).
        const wide = await stack.api(
          "POST",
          "/links",
          {
            url: `${TARGET_ORIGIN}/${"wide-".repeat(20)}`,
            slug: `wide-${run}`,
            tags: ["spring-newsletter-campaign"],
          },
          { Authorization: `Bearer ${alice}` },
        );
        expect(wide.status).toBe(201);
        await page.goto(`${origin}/dashboard/#/links`);
        await page.getByRole("link", { name: `wide-${run}` }).waitFor();
        expect(await page.evaluate("document.querySelector('.table-wrap').scrollWidth")).toBeGreaterThan(390);
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      });
    } finally {
      await phone.context.close();
    }
  });

  it("signs out: the key is nowhere in the page, and the page can no longer use it", async () => {
    const { page, step } = tab;
    await step("sign out", () => signOut(page));
    // In the page (a string: tests are type-checked without the DOM's types).
    const state = (await page.evaluate(`(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      html: document.documentElement.outerHTML,
      me: (await fetch("/api/v1/me")).status,
    }))()`)) as { local: number; session: number; cookie: string; html: string; me: number };
    expect(state).toMatchObject({ local: 0, session: 0, cookie: "", me: 401 });
    expect(state.html).not.toContain(alice);
    expect((await page.context().cookies()).length).toBe(0);
    await page.goto(`${origin}/dashboard/#/links`);
    await page.getByLabel("API key or admin token").waitFor();
    expect(await page.getByRole("table").count()).toBe(0);
    // Signing out forgets the key; it does not revoke it.
    const me = await stack.api("GET", "/me", undefined, { Authorization: `Bearer ${alice}` });
    expect(me.status).toBe(200);
  });

  it("links to the API reference, which renders this service's OpenAPI from its own files", async () => {
    const docs = await openTab(browser, { name: "docs" });
    try {
      await docs.step("docs", async () => {
        const { page } = docs;
        await page.goto(`${origin}/dashboard/`);
        await page.getByRole("link", { name: "API reference" }).click();
        await page.locator(".swagger-ui .info .title", { hasText: "Edge redirect API" }).waitFor();
        await page.locator(".opblock-summary-path", { hasText: "/api/v1/links/{slug}/qr" }).first().waitFor();
      });
      expect(docs.problems).toEqual([]);
    } finally {
      await docs.context.close();
    }
  });

  it("the pages raised no console error and broke no CSP rule", () => {
    expect(tab.problems).toEqual([]);
  });
});
