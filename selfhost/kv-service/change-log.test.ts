import { isKeyFeedPage, KeyIndex } from "@shared/kv-key-index";
import { describe, expect, it } from "vitest";
import { ChangeLog } from "./change-log";

/** The feed and the edge's index together, as an isolate follows the KV service: no servers, no clock. */
function follower(log: ChangeLog, store: Set<string>) {
  const index = new KeyIndex();
  const pull = () => {
    const q = new URLSearchParams(index.feedQuery());
    const page = log.page(q.get("changes_since") ?? "", q.get("epoch"), () => [...store]);
    index.apply(page);
    return page;
  };
  return { index, pull };
}

function write(log: ChangeLog, store: Set<string>, key: string, present: boolean) {
  if (present) store.add(key);
  else store.delete(key);
  log.record(key, present);
}

describe("the KV service's change feed of keys and the edge's index", () => {
  it("loads every key first, then follows puts and deletes with pages of changes only", () => {
    const log = new ChangeLog();
    const store = new Set<string>();
    write(log, store, "link:a", true);
    write(log, store, "link:ex.test/b", true);
    const { index, pull } = follower(log, store);
    expect(index.has("link:a")).toBe(false);
    expect(pull()).toMatchObject({ full: true, keys: ["link:a", "link:ex.test/b"] });
    expect(index.has("link:ex.test/b")).toBe(true);

    write(log, store, "link:c", true);
    write(log, store, "link:a", false);
    expect(pull()).toMatchObject({
      full: false,
      changes: [
        ["link:c", 1],
        ["link:a", 0],
      ],
    });
    expect([index.has("link:a"), index.has("link:c"), index.size]).toEqual([false, true, 2]);
    expect(pull()).toMatchObject({ full: false, changes: [] });
  });

  it("sends every key again to an index of another epoch (the service restarted) or too far behind", () => {
    const store = new Set<string>();
    const before = new ChangeLog();
    write(before, store, "link:old", true);
    const { index, pull } = follower(before, store);
    pull();

    const restarted = new ChangeLog(2);
    store.add("link:repaired");
    const q = new URLSearchParams(index.feedQuery());
    const page = restarted.page(q.get("changes_since") ?? "", q.get("epoch"), () => [...store]);
    expect(page).toMatchObject({ full: true, epoch: restarted.epoch });
    index.apply(page);
    expect(index.has("link:repaired")).toBe(true);

    for (const n of [1, 2, 3, 4, 5, 6]) write(restarted, store, `link:${n}`, true);
    const behind = restarted.page("1", restarted.epoch, () => [...store]);
    expect(behind.full).toBe(true);
    const fits = restarted.page("4", restarted.epoch, () => [...store]);
    expect(fits).toMatchObject({
      full: false,
      changes: [
        ["link:5", 1],
        ["link:6", 1],
      ],
    });
  });

  it("answers a position it never gave out (not a number, in the future) with every key", () => {
    const log = new ChangeLog();
    for (const since of ["", "x", "-1", "99", "1e3"]) {
      expect(log.page(since, log.epoch, () => []).full, since).toBe(true);
    }
  });

  it("ignores a page of changes that does not follow the index's position", () => {
    const index = new KeyIndex();
    index.apply({ epoch: "e1", seq: 5, full: true, keys: ["k"] });
    index.apply({ epoch: "e2", seq: 9, full: false, changes: [["k", 0]] });
    index.apply({ epoch: "e1", seq: 4, full: false, changes: [["k", 0]] });
    expect(index.has("k")).toBe(true);
  });

  it("takes only well-formed pages", () => {
    expect(isKeyFeedPage({ epoch: "e", seq: 1, full: true, keys: ["a"] })).toBe(true);
    expect(isKeyFeedPage({ epoch: "e", seq: 1, full: false, changes: [["a", 1]] })).toBe(true);
    for (const bad of [
      null,
      "x",
      { epoch: "e", seq: 1.5, full: true, keys: [] },
      { epoch: "e", seq: 1, full: false, changes: [["a", 2]] },
      { epoch: "e", seq: 1, full: true, keys: [1] },
    ]) {
      expect(isKeyFeedPage(bad)).toBe(false);
    }
  });
});
