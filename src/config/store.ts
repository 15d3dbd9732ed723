/** Holds the current configuration; activities read it at use time so content follows edits. */
import { loadConfig, type LoadedConfig } from './load.js';

export interface ConfigStore {
  current(): LoadedConfig;
  reload(): LoadedConfig;
}

export function createConfigStore(dir: string): ConfigStore {
  let config = loadConfig(dir);
  return {
    current: () => config,
    reload: () => (config = loadConfig(dir)),
  };
}
