// `npm run lint:deps`: the import rules of the tree (README "Architecture"). Type-only imports
// count: a cycle through types is still two modules that cannot be read one after the other.
// TypeScript 7 has no compiler API yet, so dependency-cruiser parses the sources with swc.
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment:
        "Modules read one way: no import cycle in the product (functions, task image, infra, console).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-is-plain",
      comment: "The core knows no AWS, no HTTP framework and no adapter (ports only).",
      severity: "error",
      from: { path: "^functions/core/" },
      to: { path: ["^functions/(adapters|api|events)/", "^node_modules/(@aws-sdk|hono|@hono|mongodb)/"] },
    },
    {
      name: "adapters-not-entry-points",
      comment: "Adapters implement ports; they never reach up into the API, events or the task.",
      severity: "error",
      from: { path: "^functions/adapters/" },
      to: { path: ["^functions/(api|events)/", "^task-image/"] },
    },
  ],
  options: {
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    enhancedResolveOptions: {
      extensions: [".ts", ".tsx", ".js"],
      conditionNames: ["import", "node", "default"],
    },
  },
};
