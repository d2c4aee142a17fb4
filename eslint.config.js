// Lint only what the compiler cannot: promises nobody awaits or handles.
import tseslint from "typescript-eslint";

export default tseslint.config({
  files: ["src/**/*.ts", "channels/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
  languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  plugins: { "@typescript-eslint": tseslint.plugin },
  rules: {
    "@typescript-eslint/no-floating-promises": "error",
    "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
  },
});
