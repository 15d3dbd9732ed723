#!/usr/bin/env node
// The `rebook` command, run in this process (not a child node: one runtime to start instead of
// two, and signals reach the process that handles them).
//
// Start time matters for one-shot commands (issue 9: under 0.5 s), and tsx's loader alone costs
// more than Node itself. So the CLI runs from an esbuild bundle of its TypeScript, built on the
// first run after a source change and cached under node_modules/.cache/rebook-cli/ (keyed by the
// sources' modification times); tsx remains the fallback when the bundle cannot be built.
// Each bundled module keeps its own source URL as `import.meta.url`, so paths it resolves next to
// itself (migrations, console styles, the workflows) are the same as when tsx runs it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src/cli/main.ts');

/** A key that changes when any source the CLI could bundle changes (and with Node's version). */
function sourcesKey() {
  const hash = createHash('sha256').update(process.version);
  for (const dir of ['src', 'workflows', 'connectors']) {
    for (const name of readdirSync(join(root, dir), { recursive: true }).sort()) {
      if (!/\.(ts|tsx|json)$/.test(name)) continue;
      const st = statSync(join(root, dir, name));
      hash.update(`${dir}/${name}:${st.mtimeMs}:${st.size}\n`);
    }
  }
  for (const file of ['package.json', 'tsconfig.json', 'bin/rebook.mjs'])
    hash.update(`${statSync(join(root, file)).mtimeMs}`);
  return hash.digest('hex').slice(0, 16);
}

/** The bundle's entry file, building it when the sources changed; undefined when it cannot be had. */
async function cachedBundle() {
  if (process.env.REBOOK_CLI_BUNDLE === 'off') return undefined;
  const cache = join(root, 'node_modules/.cache/rebook-cli');
  const key = sourcesKey();
  const out = join(cache, key);
  if (existsSync(join(out, 'main.js'))) return join(out, 'main.js');
  const { build, stop } = await import('esbuild');
  const building = join(cache, `${key}.${process.pid}.tmp`);
  await build({
    entryPoints: [entry],
    outdir: building,
    bundle: true,
    splitting: true, // commands stay lazily loaded: a one-shot command never loads the Temporal SDK
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(b) {
          b.onLoad({ filter: /\.(ts|tsx)$/ }, (args) => ({
            contents: readFileSync(args.path, 'utf8').replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: args.path.endsWith('x') ? 'tsx' : 'ts',
          }));
        },
      },
    ],
  });
  // esbuild's build service is a child process: end it, so the CLI's process is the only one.
  await stop();
  // Published by one rename: a concurrent run either sees no bundle or a whole one.
  try {
    renameSync(building, out);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  // Older bundles go once they are a day old: a running `rebook dev` may still load lazy chunks of its own.
  for (const old of readdirSync(cache))
    if (old !== key && Date.now() - statSync(join(cache, old)).mtimeMs > 86_400_000)
      rmSync(join(cache, old), { recursive: true, force: true });
  return join(out, 'main.js');
}

let bundle;
try {
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  bundle = await cachedBundle();
} catch (err) {
  if (process.env.REBOOK_CLI_BUNDLE === 'debug') console.error(err);
  bundle = undefined;
}
if (bundle) {
  const { runCli } = await import(pathToFileURL(bundle).href);
  await runCli(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { runCli } = await import('../src/cli/main.ts');
  await runCli(process.argv.slice(2));
}
