/** The bundle's file names (docs/node-agent.md), relative to `$CACHEFLEET_CONFIG_DIR`. */
export const BUNDLE_FILES = {
  fleetEnv: 'fleet.env',
  redisConf: 'redis.conf',
  redisNodeConf: 'redis-node.conf',
  sentinelConf: 'sentinel.conf',
  usersAcl: 'users.acl',
  liveParameters: 'live-parameters',
  memcachedArgs: 'memcached.args',
} as const;
