#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx's loader (no build step). In-process, not
// a child node: one runtime to start instead of two, and signals (Ctrl-C, SIGTERM) reach the
// process that handles them.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv.slice(2));
