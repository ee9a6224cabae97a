import { CLICK_LINE_PREFIX } from "@shared/click-line";
import { PLAIN_LINK, toLinkRecord } from "@shared/links/record";
import type { ClickSink } from "@shared/ports";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StdoutClickSink } from "../adapters/stdout-click-sink";
import { queueSendFailure } from "../metrics";
import type { Runtime } from "../runtime";
import { answerDecision, type DecisionInput } from "./answer";
import { requestFacts } from "./request-facts";

/**
 * How a redirect hands over its click: self-host's stdout line is written before the answer,
 * by the redirect itself (no waitUntil); a Queue send goes to waitUntil. Both without servers.
 */
const record = toLinkRecord({ ...PLAIN_LINK, id: 7, url: "https://example.com/t" });
const site = { domain: "", notFoundUrl: null } as unknown as DecisionInput["site"];

function runtime(clicks: ClickSink): Runtime {
  const config = { visitorSalt: "salt", trustRequestId: false, clientIpHeader: null, countryHeader: null };
  return { config, clicks } as unknown as Runtime;
}

function input(req: Request): DecisionInput {
  return {
    link: record,
    request: requestFacts(req, null),
    context: { now: Date.UTC(2026, 11, 2), forwardQueryByDefault: false },
    site,
    slug: "abc",
    path: "/abc",
  };
}

afterEach(() => vi.restoreAllMocks());

describe("answerDecision's click", () => {
  it("writes self-host's click line before it answers, without a waitUntil and without a promise", () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    const sink = new StdoutClickSink();
    const waitUntil = vi.fn();
    const req = new Request("https://sho.rt/abc");
    const res = answerDecision(req, runtime(sink), { waitUntil }, input(req));
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).status).toBe(302);
    expect(waitUntil).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(CLICK_LINE_PREFIX)).toBe(true);
    expect(JSON.parse((lines[0] as string).slice(CLICK_LINE_PREFIX.length))).toMatchObject({
      linkId: 7,
      slug: "abc",
    });
  });

  it("still redirects when writing the line throws, and counts the click as not queued", () => {
    vi.spyOn(console, "log").mockImplementation(() => {
      throw new Error("stdout closed");
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const notQueued = vi.spyOn(queueSendFailure, "inc");
    const sink = new StdoutClickSink();
    const req = new Request("https://sho.rt/abc");
    const res = answerDecision(req, runtime(sink), { waitUntil: vi.fn() }, input(req));
    expect((res as Response).status).toBe(302);
    expect(console.error).toHaveBeenCalledWith("click event not written", expect.any(Error));
    expect(notQueued).toHaveBeenCalledTimes(1);
  });

  it("hands a Queue send to waitUntil", async () => {
    const sent: unknown[] = [];
    const queue: ClickSink = { send: async (event) => void sent.push(event) };
    const waitUntil = vi.fn();
    const req = new Request("https://sho.rt/abc");
    const res = answerDecision(req, runtime(queue), { waitUntil }, input(req));
    expect((res as Response).status).toBe(302);
    expect(waitUntil).toHaveBeenCalledTimes(1);
    await waitUntil.mock.calls[0]?.[0];
    expect(sent).toMatchObject([{ linkId: 7, slug: "abc" }]);
  });
});

describe("answerDecision's click on a click-limited link", () => {
  const limited = toLinkRecord({ ...PLAIN_LINK, id: 9, url: "https://example.com/l", maxClicks: 2 });

  function limitedRun(method: "GET" | "HEAD", clicks: number) {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    const sink = new StdoutClickSink();
    const counted: string[] = [];
    const count = (kind: string) => async () => {
      counted.push(kind);
      return clicks;
    };
    const counter = { increment: count("increment"), current: count("current") };
    const rt = { ...runtime(sink), counter } as unknown as Runtime;
    const req = new Request("https://sho.rt/abc", { method });
    const res = answerDecision(req, rt, { waitUntil: vi.fn() }, { ...input(req), link: limited });
    return { res, lines, counted };
  }

  it("writes the line once, after Redis's count and before the answer resolves", async () => {
    const { res, lines, counted } = limitedRun("GET", 1);
    expect(res).toBeInstanceOf(Promise);
    expect(lines).toHaveLength(0);
    expect((await res).status).toBe(302);
    expect(counted).toEqual(["increment"]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse((lines[0] as string).slice(CLICK_LINE_PREFIX.length))).toMatchObject({
      linkId: 9,
      counted: true,
    });
  });

  it("writes no line for a click past the limit (410) or for a HEAD (a read, no click)", async () => {
    const past = limitedRun("GET", 3);
    expect((await past.res).status).toBe(410);
    expect(past.lines).toHaveLength(0);
    vi.restoreAllMocks();
    const head = limitedRun("HEAD", 1);
    expect((await head.res).status).toBe(302);
    expect(head.counted).toEqual(["current"]);
    expect(head.lines).toHaveLength(0);
  });
});
