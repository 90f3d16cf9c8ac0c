#!/usr/bin/env node
// `npx provena`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/provena.ts');
process.exitCode = await main(process.argv.slice(2));
