/**
 * `npm run build`: the production build. Compiles src/, workflows/ and connectors/ to dist/ (plain
 * node runs it: no TypeScript compiler at run time), copies the SQL migrations beside the compiled
 * database module and the console's stylesheets beside its routes, and bundles the workflow code ahead of time into dist/workflow-bundle.js, which
 * the compiled worker loads instead of bundling at start (Temporal's production sample does the same).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE, WORKFLOWS_PATH } from '../src/temporal/worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
mkdirSync(join(dist, 'src/db'), { recursive: true });
cpSync(join(root, 'src/db/migrations'), join(dist, 'src/db/migrations'), { recursive: true });
// The console's stylesheets are read from beside its compiled routes, as in the sources.
cpSync(join(root, 'src/console/styles'), join(dist, 'src/console/styles'), { recursive: true });
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
writeFileSync(join(dist, WORKFLOW_BUNDLE_FILE), code);
console.log(`built dist/ (workflow bundle ${(code.length / 1024).toFixed(0)} KiB)`);
