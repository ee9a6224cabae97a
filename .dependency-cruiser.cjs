/**
 * Import rules checked in CI (`npm run lint:deps`): no circles, the two workers never reach into the
 * self-host, bench or script code, and shared code (`shared/`, imported as `@shared`) depends on neither worker.
 * Type-only imports count too (tsPreCompilationDeps): a type import is still a coupling.
 */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "workers-stay-deployable",
      comment: "A worker bundle must not pull in code that only runs on Node (self-host, bench, scripts).",
      severity: "error",
      from: { path: "^(worker|aggregator)/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(selfhost|bench|scripts)/" },
    },
    {
      name: "no-dashboard-in-workers",
      comment:
        "The dashboard is static files for browsers: no worker code path (a redirect least of all) loads it.",
      severity: "error",
      from: { path: "^(worker|aggregator|shared)/" },
      to: { path: "^dashboard/" },
    },
    {
      name: "shared-imports-no-worker",
      comment: "Shared code is below both workers.",
      severity: "error",
      from: { path: "^shared/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(worker|aggregator|selfhost|bench|scripts)/" },
    },
    {
      name: "worker-layers-point-down",
      comment:
        "routes → middleware → services → adapters/schemas: schemas describe data and import no behaviour.",
      severity: "error",
      from: { path: "^worker/src/schemas/" },
      to: { path: "^worker/src/(middleware|routes|services|adapters)/" },
    },
    {
      name: "middleware-below-routes",
      severity: "error",
      from: { path: "^worker/src/middleware/" },
      to: { path: "^worker/src/routes/" },
    },
    {
      name: "services-below-middleware",
      severity: "error",
      from: { path: "^worker/src/services/", pathNot: "\\.test\\.ts$" },
      to: { path: "^worker/src/(routes|middleware)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|\\.wrangler)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
