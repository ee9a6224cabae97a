import { afterEach, describe, expect, it, vi } from "vitest";
import { type RestartResult, startControl } from "./control";
import type { ServiceHandle } from "./http-service";
import { bearer } from "./internal-auth";

const TOKEN = "control-test-token";
let control: ServiceHandle | undefined;
afterEach(async () => {
  await control?.close();
  vi.restoreAllMocks();
});

const restartRequest = () =>
  fetch(`${control?.url}/rolling-restart`, { method: "POST", headers: { Authorization: bearer(TOKEN) } });

describe("the runner's control port", () => {
  it("answers 500 with the error when a restart throws, and keeps serving", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    let calls = 0;
    control = await startControl({
      token: TOKEN,
      restart: async (log) => {
        if (++calls === 1) throw new Error("bundle build failed");
        log("replaced 3");
        return { replaced: 3, rolledBack: false };
      },
    });
    const failed = await restartRequest();
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: "bundle build failed" });
    const next = await restartRequest();
    expect(next.status).toBe(200);
    expect(await next.json()).toEqual({ replaced: 3, rolledBack: false, log: ["replaced 3"] });
  });

  it("refuses a second rolling restart while one runs (409)", async () => {
    let finish: (r: RestartResult) => void = () => {};
    control = await startControl({
      token: TOKEN,
      restart: () => new Promise<RestartResult>((resolve) => (finish = resolve)),
    });
    const first = restartRequest();
    await new Promise((r) => setTimeout(r, 50));
    expect((await restartRequest()).status).toBe(409);
    finish({ replaced: 3, rolledBack: false });
    expect((await first).status).toBe(200);
    finish = () => {};
    const again = restartRequest();
    await new Promise((r) => setTimeout(r, 50));
    finish({ replaced: 3, rolledBack: true });
    expect((await again).status).toBe(500);
  });

  it("refuses a request without the token and answers 404 elsewhere", async () => {
    control = await startControl({ token: TOKEN, restart: async () => ({ replaced: 0, rolledBack: false }) });
    expect((await fetch(`${control.url}/rolling-restart`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${control.url}/other`, { headers: { Authorization: bearer(TOKEN) } })).status).toBe(
      404,
    );
  });
});
