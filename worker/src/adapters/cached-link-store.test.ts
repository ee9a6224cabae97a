import { fromRecord, type LinkRecord, PLAIN_LINK, toLinkRecord } from "@shared/links/record";
import type { LinkStore } from "@shared/ports";
import { describe, expect, it, vi } from "vitest";
import { CachedLinkStore } from "./cached-link-store";

function memoryStore() {
  const data = new Map<string, LinkRecord>();
  const store: LinkStore & { reads: number } = {
    reads: 0,
    async get(slug) {
      store.reads++;
      return data.get(slug) ?? null;
    },
    async put(slug, record) {
      data.set(slug, record);
    },
    async delete(slug) {
      data.delete(slug);
    },
  };
  return { store, data };
}

const rec = (url: string) => toLinkRecord({ ...PLAIN_LINK, id: 1, url });
const urlOf = (record: LinkRecord | null) => record && fromRecord.url(record);

describe("CachedLinkStore", () => {
  it("answers repeated reads from memory until the TTL passes", async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const { store, data } = memoryStore();
      data.set("a", rec("https://one/"));
      const cached = new CachedLinkStore(store, 5000);
      expect(urlOf(await cached.get("a"))).toBe("https://one/");
      data.set("a", rec("https://two/")); // changed behind its back, as another replica would
      expect(urlOf(await cached.get("a"))).toBe("https://one/");
      expect(store.reads).toBe(1);
      vi.setSystemTime(5001);
      expect(urlOf(await cached.get("a"))).toBe("https://two/");
      expect(store.reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("sees its own writes and deletes at once, and never caches a miss", async () => {
    const { store } = memoryStore();
    const cached = new CachedLinkStore(store, 60_000);
    expect(await cached.get("b")).toBeNull();
    await cached.put("b", rec("https://b/"));
    expect(urlOf(await cached.get("b"))).toBe("https://b/");
    await cached.put("b", rec("https://b2/"));
    expect(urlOf(await cached.get("b"))).toBe("https://b2/");
    await cached.delete("b");
    expect(await cached.get("b")).toBeNull();
  });

  it("keeps at most maxEntries records", async () => {
    const { store } = memoryStore();
    const cached = new CachedLinkStore(store, 60_000, 2);
    for (const s of ["x", "y", "z"]) await cached.put(s, rec(`https://${s}/`));
    const before = store.reads;
    await cached.get("x"); // evicted: read again
    await cached.get("z"); // still cached
    expect(store.reads - before).toBe(1);
  });
});
