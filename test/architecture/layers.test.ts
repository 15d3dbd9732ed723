/**
 * The layer rules (.dependency-cruiser.cjs) hold on the real tree, and fail, naming the rule,
 * when a deliberate violation is written into it: a green run proves the rules still see imports,
 * not only that nothing was found. Runs the same depcruise command as `npm run lint`.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The depcruise arguments of the lint script, so this test and `npm run lint` cannot drift apart. */
function lintArgs(): string[] {
  const lint: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.lint;
  const command = lint.split('&&').find((part) => part.trim().startsWith('depcruise '));
  if (!command) throw new Error('the lint script no longer runs depcruise');
  return command.trim().split(/\s+/).slice(1);
}

async function depcruise(): Promise<{ code: number; output: string }> {
  try {
    const r = await run(join(root, 'node_modules', '.bin', 'depcruise'), lintArgs(), { cwd: root });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('layer rules', () => {
  it('pass on the tree as it is', { timeout: 120_000 }, async () => {
    const r = await depcruise();
    expect(r.output).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });

  it('fail on deliberate violations, naming each rule broken', { timeout: 120_000 }, async () => {
    const tag = `layers-violation-${process.pid}`;
    // Each file breaks one rule; the name marks them as this test's own.
    const violations: Record<string, string> = {
      [`src/core/${tag}.ts`]: "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
      [`workflows/${tag}.ts`]: "export { createActivities } from '../src/activities/index.js';\n",
      [`connectors/generic/${tag}.ts`]: "export { appointments } from '../../src/db/schema.js';\n",
      [`src/messaging/${tag}.ts`]: "export { createActivities } from '../activities/index.js';\n",
      [`src/reports/${tag}.ts`]: "import '../cli/main.js';\n",
    };
    try {
      for (const [path, text] of Object.entries(violations)) writeFileSync(join(root, path), text, { flag: 'wx' });
      const r = await depcruise();
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(new RegExp(`core-is-pure: src/core/${tag}\\.ts → (node:)?fs`));
      expect(r.output).toMatch(
        new RegExp(`workflows-activity-types-only: workflows/${tag}\\.ts → src/activities/index\\.ts`),
      );
      expect(r.output).toMatch(
        new RegExp(`connectors-use-the-connector-store: connectors/generic/${tag}\\.ts → src/db/schema\\.ts`),
      );
      expect(r.output).toMatch(new RegExp(`messaging-below-activities: src/messaging/${tag}\\.ts → src/activities/`));
      expect(r.output).toMatch(new RegExp(`reports-and-preview-not-cli: src/reports/${tag}\\.ts → src/cli/main\\.ts`));
      // Nothing but the planted files is reported.
      const reported = r.output.split('\n').filter((l) => /^\s*error /.test(l));
      expect(reported.length).toBeGreaterThan(0);
      for (const line of reported) expect(line).toContain(tag);
    } finally {
      for (const path of Object.keys(violations)) rmSync(join(root, path), { force: true });
    }
  });
});
