/**
 * The labelled reply corpus (test/fixtures/replies/labeled.tsv) through classifyReply: every row
 * must get its label, opt-outs are never missed, and the per-intent precision and recall are
 * printed so a change to the patterns shows what it costs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyReply, REPLY_INTENTS, type ReplyIntent } from '../../src/core/reply-intent.js';

const rows = readFileSync(new URL('../fixtures/replies/labeled.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.length > 0 && !line.startsWith('#'))
  .map((line) => {
    const tab = line.lastIndexOf('\t');
    return { text: line.slice(0, tab), label: line.slice(tab + 1) as ReplyIntent };
  });

const OPT_OUT: ReadonlySet<ReplyIntent> = new Set(['opt_out', 'opt_out_free_text']);

describe('labelled reply corpus', () => {
  it('has at least 150 phrasings, each labelled with a known intent', () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
    for (const r of rows) expect(REPLY_INTENTS).toContain(r.label);
  });

  it('opt-out recall is 100% and nothing else is read as an opt-out; precision and recall per intent', () => {
    const predicted = rows.map((r) => ({ ...r, got: classifyReply(r.text) }));
    const lines = REPLY_INTENTS.map((intent) => {
      const tp = predicted.filter((p) => p.got === intent && p.label === intent).length;
      const asIntent = predicted.filter((p) => p.got === intent).length;
      const labelled = predicted.filter((p) => p.label === intent).length;
      const pct = (n: number, d: number) => (d === 0 ? '   –  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);
      return `${intent.padEnd(20)} n=${String(labelled).padStart(3)}  precision ${pct(tp, asIntent)}  recall ${pct(tp, labelled)}`;
    });
    console.log(`reply intents over ${rows.length} labelled replies:\n${lines.join('\n')}`);
    const missedOptOuts = predicted.filter((p) => OPT_OUT.has(p.label) && !OPT_OUT.has(p.got)).map((p) => p.text);
    const falseOptOuts = predicted.filter((p) => !OPT_OUT.has(p.label) && OPT_OUT.has(p.got)).map((p) => p.text);
    expect(missedOptOuts).toEqual([]);
    expect(falseOptOuts).toEqual([]);
  });

  it.each(rows.map((r) => [r.text, r.label] as const))('%j → %s', (text, label) => {
    expect(classifyReply(text)).toBe(label);
  });
});
