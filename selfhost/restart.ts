/** `npm run selfhost:restart`: asks the running `npm run selfhost` for a rolling restart of the replicas. */
export {};

const port = Number(
  process.env.SELFHOST_CONTROL_PORT ?? 8099 + Number(process.env.SELFHOST_PORT_OFFSET ?? 0),
);
const res = await fetch(`http://127.0.0.1:${port}/rolling-restart`, { method: "POST" }).catch(() => null);
if (!res) {
  console.error(`no cluster answers on 127.0.0.1:${port}; start one with npm run selfhost`);
  process.exit(2);
}
const body = (await res.json()) as { replaced: number; rolledBack: boolean; log: string[] };
for (const line of body.log) console.log(line);
console.log(body.rolledBack ? "smoke test failed: rolled back" : `replaced ${body.replaced} replicas`);
process.exit(body.rolledBack ? 1 : 0);
