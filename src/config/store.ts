/**
 * Holds the current configuration; activities and routes read it at use time, so a reload
 * changes content and settings without a restart. Running sequences keep their schedule: the
 * plan is fixed inside each workflow when it is made.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from '../log.js';
import { ConfigError, type LoadedConfig, loadConfig } from './load.js';

export interface ConfigStore {
  current(): LoadedConfig;
  /** Loads the directory again; on a ConfigError the last good configuration stays current (and the error is thrown). */
  reload(): LoadedConfig;
}

export function createConfigStore(dir: string): ConfigStore {
  let config = loadConfig(dir);
  return {
    current: () => config,
    reload: () => (config = loadConfig(dir)),
  };
}

export interface ConfigWatcher {
  /** Reloads now (what SIGHUP and file changes do); resolves whether the new configuration was taken. */
  reload(reason: string): boolean;
  stop(): void;
}

/**
 * Reloads on SIGHUP and when a file under the directory changes (fs.watch, debounced: editors
 * write a file in several steps). A bad reload keeps the last good configuration and logs where
 * the problems are (file, line, path: no values).
 */
export function watchConfig(
  store: ConfigStore,
  opts: { log: Logger; debounceMs?: number; signal?: NodeJS.Signals | false },
): ConfigWatcher {
  const { log } = opts;
  const dir = store.current().dir;
  const reload = (reason: string): boolean => {
    try {
      const cfg = store.reload();
      log.info(
        { reason, clinics: cfg.clinics.size, agencies: cfg.agencies.size, warnings: cfg.warnings.length },
        'configuration reloaded',
      );
      return true;
    } catch (err) {
      if (err instanceof ConfigError) {
        log.error(
          { reason, problems: err.problems.map((p) => ({ file: p.file, line: p.line, path: p.path })) },
          'configuration reload rejected: keeping the last good configuration',
        );
      } else {
        log.error(
          { reason, errorName: (err as Error).name, code: (err as { code?: string }).code },
          'configuration reload failed: keeping the last good configuration',
        );
      }
      return false;
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => reload('file_change'), opts.debounceMs ?? 300);
  };
  let watcher: FSWatcher | undefined;
  try {
    // Recursive watching covers clinics/ and agencies/ (Linux support since Node 20).
    watcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
      if (!file || /\.ya?ml$/.test(String(file))) schedule();
    });
    watcher.on('error', (err) =>
      log.warn(
        { errorName: err.name, code: (err as { code?: string }).code },
        'configuration watch stopped; SIGHUP still reloads',
      ),
    );
  } catch (err) {
    log.warn(
      { errorName: (err as Error).name, code: (err as { code?: string }).code },
      'cannot watch the configuration directory; SIGHUP still reloads',
    );
  }

  const signal = opts.signal === undefined ? 'SIGHUP' : opts.signal;
  const onSignal = () => void reload('signal');
  if (signal) process.on(signal, onSignal);
  return {
    reload,
    stop() {
      clearTimeout(timer);
      watcher?.close();
      if (signal) process.off(signal, onSignal);
    },
  };
}
