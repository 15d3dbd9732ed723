/**
 * The Temporal SDK's logs in tests. Many tests fail activities on purpose (a platform down, a
 * provider refusing), and the SDK logs each failed attempt at WARN with its whole failure: a clean
 * run printed ~347,000 lines of them, burying the test report. Below ERROR the SDK stays silent
 * unless REBOOK_TEST_VERBOSE=1; errors always show.
 */
import { DefaultLogger, type LogLevel, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

export const TEST_VERBOSE = process.env.REBOOK_TEST_VERBOSE === '1';

/** The level SDK logs (worker, activities, bundler, Rust core) are shown from. */
export const SDK_TEST_LOG_LEVEL: LogLevel = TEST_VERBOSE ? 'WARN' : 'ERROR';

/** A logger for `bundleWorkflowCode`, `Worker.create` and the replayer. */
export function quietSdkLogger(): DefaultLogger {
  return new DefaultLogger(SDK_TEST_LOG_LEVEL);
}

/**
 * Installs the SDK runtime with the quiet logger; the Rust core's own logs are forwarded to it
 * (otherwise core prints them to the console by itself). Call before the first worker or
 * connection of a test file: the runtime is a per-process singleton.
 */
export function installQuietRuntime(): void {
  Runtime.install({
    logger: quietSdkLogger(),
    telemetryOptions: {
      logging: {
        filter: makeTelemetryFilterString({ core: SDK_TEST_LOG_LEVEL, other: SDK_TEST_LOG_LEVEL }),
        forward: {},
      },
    },
  });
}
