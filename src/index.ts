// The root namespace: the engine-neutral types both flavors take.
export * from './core/engine';
export * from './core/persistence';
export * from './core/fleet-options';
export { ParameterGroup, ParameterGroupProps } from './core/parameters/parameter-group';
