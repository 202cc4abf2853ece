import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/"] },
  js.configs.recommended,
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.node,
    },
  },
  {
    // check.mjs hands functions to page.evaluate: they run in the browser
    files: ["check.mjs"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
