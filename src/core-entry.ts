// `cachefleet/core`: the engine-neutral types both flavors take. Its declarations import
// `constructs` and nothing of either flavor, so they compile with only the required peer installed.
export * from './core/engine';
export * from './core/persistence';
export * from './core/fleet-options';
export * from './core/parameters/parameter-group';
