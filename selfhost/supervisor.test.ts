import { describe, expect, it } from "vitest";
import { type Restartable, RestartBackoff, Supervisor } from "./supervisor";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process that crashes on demand and whose starts fail while `failing` is set. */
function fakeProcess() {
  const listeners: Array<(reason: string) => void> = [];
  const state = { starts: 0, failing: false };
  const proc: Restartable & { crash(): void } = {
    async start() {
      state.starts++;
      if (state.failing) throw new Error("port in use");
    },
    onCrash: (listener) => void listeners.push(listener),
    crash: () => {
      for (const l of listeners) l("exited (SIGKILL)");
    },
  };
  return Object.assign(proc, { state });
}

describe("RestartBackoff", () => {
  it("waits 0.5 s, doubling to at most 30 s while a process keeps crashing, and starts over after a stable run", () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.delayAfter(100));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoff.delayAfter(60_000)).toBe(500);
    expect(backoff.delayAfter(100)).toBe(1000);
  });
});

describe("Supervisor", () => {
  const policy = { initialMs: 20, maxMs: 80, stableMs: 10_000 };

  it("restarts a crashed process, counts it and logs it", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor(policy, (line) => lines.push(line));
    const proc = fakeProcess();
    supervisor.watch("edge-1", proc);
    expect(supervisor.metrics()).toContain('selfhost_process_restarts_total{process="edge-1"} 0');
    proc.crash();
    await sleep(60);
    expect(proc.state.starts).toBe(1);
    expect(supervisor.metrics()).toContain('selfhost_process_restarts_total{process="edge-1"} 1');
    expect(lines).toEqual(["edge-1 exited (SIGKILL); restarting in 20 ms", "edge-1 restarted"]);
  });

  it("keeps trying, with growing waits, while the start fails", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor(policy, (line) => lines.push(line));
    const proc = fakeProcess();
    supervisor.watch("aggregator", proc);
    proc.state.failing = true;
    proc.crash();
    while (proc.state.starts < 4) await sleep(10);
    proc.state.failing = false;
    while (!lines.includes("aggregator restarted")) await sleep(10);
    expect(lines.map((l) => l.match(/restarting in (\d+) ms/)?.[1]).filter(Boolean)).toEqual([
      "20",
      "40",
      "80",
      "80",
      "80",
    ]);
    expect(lines[1]).toBe("aggregator failed to start (port in use); restarting in 40 ms");
    await supervisor.close();
  });

  it("restarts nothing once closed", async () => {
    const supervisor = new Supervisor(policy, () => {});
    const proc = fakeProcess();
    supervisor.watch("redis", proc);
    proc.crash();
    await supervisor.close();
    await sleep(60);
    expect(proc.state.starts).toBe(0);
  });
});
