import { ParameterSpec, withDefault } from './parameter-spec';
import { integer } from './value-types';

/** cachefleet's own parameters: read by the node agent, never given to the engine. */

export const reservedMemoryPercent: ParameterSpec = {
  name: 'reserved-memory-percent',
  // Not 100: a maxmemory of 0 means "unlimited" to Redis, the opposite of what 100 would ask for.
  type: integer(0n, 90n),
  defaultValue: '25',
  apply: 'restart',
  target: 'agent',
  elastiCache: "ElastiCache's parameter of the same name and default; its byte-sized `reserved-memory` is refused in favour of it.",
  description: "Share of the node's memory kept from the engine (maxmemory, memcached -m) for the OS, forks and buffers.",
};

/**
 * Memcached never forks to persist, so it needs far less headroom than Redis: ElastiCache keeps
 * only 100 MB (`memcached_connections_overhead`) from it, whatever the node's size.
 */
export const memcachedReservedMemoryPercent: ParameterSpec = {
  ...withDefault(reservedMemoryPercent, '10'),
  elastiCache: 'Not an ElastiCache Memcached parameter: ElastiCache keeps a fixed `memcached_connections_overhead` (100 MB) instead, refused here in favour of this share.',
};
