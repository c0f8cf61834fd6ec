#!/usr/bin/env node
// `npx wiseft …` (package.json "bin"): cli/wiseft.ts run through tsx, a devDependency, so the CLI
// works from a checkout after `npm ci`, with nothing to build first.
import process from 'node:process';
import { tsImport } from 'tsx/esm/api';

const { run } = await tsImport('./wiseft.ts', import.meta.url);
await run(process.argv.slice(2));
