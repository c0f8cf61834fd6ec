// The formatter (npm run format, npm run format:check). The settings follow the code as it was
// written, so that formatting changes as few lines as it can: 140 columns, single quotes,
// semicolons, trailing commas in multi-line lists, parentheses around every arrow parameter.
/** @type {import('prettier').Config} */
export default {
  printWidth: 140,
  singleQuote: true,
  semi: true,
  trailingComma: 'all',
  arrowParens: 'always',
  bracketSpacing: true,
};
