import { FleetPlan } from '../topology';
import { adminUser, applicationUser, DEFAULT_USER_OFF, replicationUser, sentinelUserOnDataNodes } from './acl-rules';
import { fileText } from './config-syntax';
import { requireEngine } from './plan-facts';

/**
 * `users.acl`, the data nodes' ACL file (`aclfile` in redis-node.conf): `default` off, then the
 * application (`-@dangerous`), admin (everything), sentinel and replication users. Every data node gets every user: a replica becomes a
 * primary after a failover, and sentinels watch replicas too.
 *
 * No comment line: an ACL file accepts only `user` lines.
 */
export function renderUsersAcl(plan: FleetPlan): string {
  requireEngine(plan, 'redis', 'users.acl');
  return fileText([DEFAULT_USER_OFF, applicationUser(plan), adminUser(plan), sentinelUserOnDataNodes(plan), replicationUser(plan)]);
}
