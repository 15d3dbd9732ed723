import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEngine, treatment, type Engine } from './helpers/engine.js';

let e: Engine;
beforeAll(async () => { e = await startEngine(); });
afterAll(async () => { await e?.stop(); });

it('runs the full Botox sequence', async () => {
  const t0 = e.now();
  const res = await e.send(treatment({ completedAt: new Date(t0).toISOString() }));
  console.log(res);
  await e.sleep('101d');
  const msgs = await e.messages();
  console.log(msgs.map((m) => [m.stage, m.channel, m.status, (m.dueAt.getTime() - t0) / 86400000]));
  console.log(await e.tasks());
  console.log(await e.sequences());
  expect(msgs.length).toBeGreaterThan(0);
});
