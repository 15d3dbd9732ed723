/** temporal.yaml, validated, with environment overrides applied. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/);

export const temporalSettingsSchema = z.strictObject({
  address: z.string().min(1),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  tls: z.strictObject({
    enabled: z.boolean().default(false),
    serverNameOverride: z.string().nullish(),
    serverRootCaEnv: envName.optional(),
    clientCertEnv: envName.optional(),
    clientKeyEnv: envName.optional(),
  }),
  apiKeyEnv: envName.optional(),
  encryption: z.strictObject({ keysEnv: envName }),
  worker: z.strictObject({
    maxConcurrentActivityTaskExecutions: z.number().int().positive(),
    maxConcurrentWorkflowTaskExecutions: z.number().int().positive(),
    maxCachedWorkflows: z.number().int().nonnegative(),
    shutdownGraceTime: z.string().regex(/^\d+(ms|s|m)$/),
    /** The worker of `rebook dev` / `npm start`, sharing its process and PGlite with the HTTP server. */
    embedded: z
      .strictObject({
        maxConcurrentActivityTaskExecutions: z.number().int().positive(),
        maxConcurrentWorkflowTaskExecutions: z.number().int().positive(),
      })
      .optional(),
  }),
  searchAttributes: z.record(
    z.string(),
    z.enum(['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList']),
  ),
  devServer: z.strictObject({
    dbFile: z.string(),
    port: z.number().int().positive(),
    uiPort: z.number().int().positive(),
    namespace: z.string(),
  }),
});

export type TemporalSettings = z.infer<typeof temporalSettingsSchema>;

export function loadTemporalSettings(file: string, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const result = temporalSettingsSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${file} ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid ${file}:\n${lines.join('\n')}`);
  }
  const s = result.data;
  return {
    ...s,
    address: env.TEMPORAL_ADDRESS ?? s.address,
    namespace: env.TEMPORAL_NAMESPACE ?? s.namespace,
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? s.taskQueue,
    tls: {
      ...s.tls,
      enabled: env.TEMPORAL_TLS === 'true' ? true : env.TEMPORAL_TLS === 'false' ? false : s.tls.enabled,
    },
    apiKeyEnv: env.TEMPORAL_API_KEY_ENV ?? s.apiKeyEnv,
  };
}
