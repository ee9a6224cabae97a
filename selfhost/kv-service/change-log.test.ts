import { feedAsk, isKeyFeedPage, KeyIndex } from "@shared/kv-key-index";
import { describe, expect, it } from "vitest";
import { ChangeLog } from "./change-log";

/** The page `log` answers to `query` (an index's `feedQuery()`), as the KV service's route asks it. */
function ask(log: ChangeLog, query: string, store: Set<string>) {
  return log.page(feedAsk(new URLSearchParams(query)), () => [...store]);
}

/** The feed and the edge's index together, as an isolate follows the KV service: no servers, no clock. */
function follower(log: ChangeLog, store: Set<string>) {
  const index = new KeyIndex();
  /** One feed read: the next page. */
  const step = () => {
    const page = ask(log, index.feedQuery(), store);
    index.apply(page);
    return page;
  };
  /** Feed reads until the index is current, as kv-feed-index.ts pulls: the last page read. */
  const pull = () => {
    let page = step();
    while (index.reloading) page = step();
    return page;
  };
  return { index, pull, step };
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
    const { index, pull, step } = follower(log, store);
    expect(index.has("link:a")).toBe(false);
    expect(step()).toMatchObject({ full: true, offset: 0, next: null, keys: ["link:a", "link:ex.test/b"] });
    // Not before the changes since the snapshot are read too.
    expect(index.loaded).toBe(false);
    expect(step()).toMatchObject({ full: false, changes: [] });
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
    const page = ask(restarted, index.feedQuery(), store);
    expect(page).toMatchObject({ full: true, epoch: restarted.epoch });
    index.apply(page);
    index.apply(ask(restarted, index.feedQuery(), store));
    expect(index.has("link:repaired")).toBe(true);

    for (const n of [1, 2, 3, 4, 5, 6]) write(restarted, store, `link:${n}`, true);
    const behind = restarted.page({ since: "1", epoch: restarted.epoch }, () => [...store]);
    expect(behind.full).toBe(true);
    const fits = restarted.page({ since: "4", epoch: restarted.epoch }, () => [...store]);
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
      expect(log.page({ since, epoch: log.epoch }, () => []).full, since).toBe(true);
    }
  });

  it("ignores a page of changes that does not follow the index's position", () => {
    const index = new KeyIndex();
    index.apply({ epoch: "e1", seq: 5, full: true, offset: 0, next: null, keys: ["k"] });
    index.apply({ epoch: "e1", seq: 5, full: false, changes: [] });
    index.apply({ epoch: "e2", seq: 9, full: false, changes: [["k", 0]] });
    index.apply({ epoch: "e1", seq: 4, full: false, changes: [["k", 0]] });
    expect(index.has("k")).toBe(true);
  });

  it("sends every key in pages of a snapshot; a key written or deleted while they are read is not lost", () => {
    const log = new ChangeLog(10_000, 3);
    const store = new Set<string>();
    for (let n = 0; n < 10; n++) write(log, store, `link:${n}`, true);
    const { index, step, pull } = follower(log, store);
    expect(step()).toMatchObject({ full: true, offset: 0, next: 3, keys: ["link:0", "link:1", "link:2"] });

    write(log, store, "link:new", true);
    write(log, store, "link:1", false); // in a page already read
    write(log, store, "link:8", false); // in a page not read yet: the snapshot still has it
    write(log, store, "link:2", false);
    write(log, store, "link:2", true); // deleted and written again
    const pages = [step(), step(), step()];
    expect(pages.map((p) => (p.full ? [p.offset, p.next, p.keys.length] : null))).toEqual([
      [3, 6, 3],
      [6, 9, 3],
      [9, null, 1],
    ]);
    expect(index.loaded).toBe(false);
    expect(step()).toMatchObject({ full: false });
    expect(index.reloading).toBe(false);
    expect([...store].every((k) => index.has(k))).toBe(true);
    expect([index.has("link:1"), index.has("link:8"), index.size]).toEqual([false, false, store.size]);
    expect(pull()).toMatchObject({ full: false, changes: [] });
  });

  it("keeps answering from the old set while a reload is read, and keeps keys this isolate added meanwhile", () => {
    const store = new Set(["link:old", "link:kept"]);
    const before = new ChangeLog(10_000, 1);
    const { index, pull } = follower(before, store);
    pull();
    // The service restarted (repaired: link:old is gone): a new epoch, a new snapshot read page by page.
    const restarted = new ChangeLog(10_000, 1);
    store.delete("link:old");
    index.apply(ask(restarted, index.feedQuery(), store));
    expect(index.reloading).toBe(true);
    expect([index.has("link:old"), index.size]).toEqual([true, 2]);
    index.add("link:mine"); // written through this isolate after the snapshot, before the feed shows it
    while (index.reloading) index.apply(ask(restarted, index.feedQuery(), store));
    expect([index.has("link:old"), index.has("link:kept"), index.has("link:mine")]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("shares a snapshot between isolates reloading at one position, and starts over when it is no longer kept", () => {
    const log = new ChangeLog(10_000, 2);
    const store = new Set(["a", "b", "c", "d", "e"]);
    let snapshots = 0;
    const keys = () => {
      snapshots += 1;
      return [...store];
    };
    const first = new KeyIndex();
    const second = new KeyIndex();
    for (const index of [first, second, first]) {
      index.apply(log.page(feedAsk(new URLSearchParams(index.feedQuery())), keys));
    }
    expect(snapshots).toBe(1);

    // Four more snapshots at later positions: the first one is dropped, and its reader starts over.
    for (const n of [1, 2, 3, 4]) {
      log.record(`k${n}`, true);
      log.page({ since: "", epoch: null }, keys);
    }
    const q = new URLSearchParams(second.feedQuery());
    const page = log.page(
      { since: "", epoch: q.get("epoch"), snapshot: q.get("snapshot"), offset: "2" },
      keys,
    );
    expect(page).toMatchObject({ full: true, offset: 0, seq: 4 });
    // An idle snapshot is dropped after a minute even if few were taken.
    const later = log.page(
      { since: "", epoch: log.epoch, snapshot: "4", offset: "2" },
      keys,
      Date.now() + 61_000,
    );
    expect(later).toMatchObject({ full: true, offset: 0, seq: 4 });
    expect(snapshots).toBe(6);
  });

  it("ignores a snapshot page out of order, and starts the reload over", () => {
    const index = new KeyIndex();
    index.apply({ epoch: "e", seq: 3, full: true, offset: 0, next: 2, keys: ["a", "b"] });
    index.apply({ epoch: "e", seq: 3, full: true, offset: 4, next: null, keys: ["e"] });
    expect([index.reloading, index.feedQuery()]).toEqual([false, "changes_since="]);
    index.apply({ epoch: "e", seq: 3, full: false, changes: [] });
    expect(index.loaded).toBe(false);
  });

  it("takes only well-formed pages", () => {
    expect(isKeyFeedPage({ epoch: "e", seq: 1, full: true, offset: 0, next: 1, keys: ["a"] })).toBe(true);
    expect(isKeyFeedPage({ epoch: "e", seq: 1, full: false, changes: [["a", 1]] })).toBe(true);
    for (const bad of [
      null,
      "x",
      { epoch: "e", seq: 1.5, full: true, offset: 0, next: null, keys: [] },
      { epoch: "e", seq: 1, full: false, changes: [["a", 2]] },
      { epoch: "e", seq: 1, full: true, offset: 0, next: null, keys: [1] },
      { epoch: "e", seq: 1, full: true, keys: [] },
      { epoch: "e", seq: 1, full: true, offset: -1, next: null, keys: [] },
      { epoch: "e", seq: 1, full: true, offset: 0, next: "2", keys: [] },
    ]) {
      expect(isKeyFeedPage(bad)).toBe(false);
    }
  });
});
