/**
 * The import rules of the house (`npm run lint`): no cycles, apps are wiring that no lib imports,
 * the pipeline never calls back into the API's verbs, and the domain depends on nothing of ours.
 */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "libs-never-import-apps",
      severity: "error",
      from: { path: "^libs/" },
      to: { path: "^apps/" },
    },
    {
      name: "pipeline-never-imports-services",
      severity: "error",
      from: { path: "^libs/pipeline/" },
      to: { path: "^libs/services/" },
    },
    {
      name: "domain-depends-on-nothing-of-ours",
      severity: "error",
      from: { path: "^libs/domain/" },
      to: { path: "^(libs|apps)/(?!domain/)" },
    },
    {
      name: "no-reaching-into-another-package",
      comment: "import a workspace package by its name and exports, never by a relative path into it",
      severity: "error",
      from: { path: "^(libs|apps)/([^/]+)/src/" },
      to: { path: "^(libs|apps)/", pathNot: ["^$1/$2/", "node_modules"], dependencyTypes: ["local"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // the console's bundle, built from apps/console/src (which is cruised)
    exclude: { path: "^apps/[^/]+/dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: true,
  },
};
