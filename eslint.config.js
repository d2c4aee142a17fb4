// Lint only what the compiler cannot: promises nobody awaits or handles, and
// imports that climb back up a layer (docs/architecture.md, "Rooms").
import tseslint from "typescript-eslint";

/** Imports from these folders of src/ are refused in files of the given folders. */
const above = (...folders) => ({
  "no-restricted-imports": ["error", { patterns: [{ regex: `(^|/)(${folders.join("|")})/`, message: "this import climbs back up a layer (docs/architecture.md, \"Rooms\")" }] }],
});
const callers = ["cli", "dashboard", "leader", "worker", "graph", "results", "merge", "control", "monitor"];

export default tseslint.config(
  {
    files: ["src/**/*.ts", "channels/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
    },
  },
  // Pure rules: they import channels/ and each other, nothing with I/O.
  {
    files: ["src/policy/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ regex: "^(?!\\./|\\.\\./\\.\\./channels/)", message: "policy/ holds pure rules: it imports only channels/ and itself" }] }] },
  },
  { files: ["channels/**/*.ts"], rules: above("src") },
  { files: ["src/nats/**/*.ts"], rules: above(...callers, "run", "store", "policy") },
  // Stores keep state; the rules they apply come from their callers, as arguments.
  { files: ["src/store/**/*.ts"], rules: above(...callers, "run", "policy") },
  { files: ["src/run/**/*.ts"], rules: above(...callers, "store") },
);
