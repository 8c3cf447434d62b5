/**
 * Which fleets have planned with a parameter group. A fleet reads its group's parameters when it is
 * constructed (they size memory, pick persistence and are rendered into every node's files), so a
 * parameter set afterwards would never reach those nodes: the group refuses it instead.
 */
const users = new WeakMap<object, string[]>();

/** Records that the fleet at `fleetPath` has read `group`'s parameters. */
export function recordParameterGroupUse(group: object, fleetPath: string): void {
  users.set(group, [...(users.get(group) ?? []), fleetPath]);
}

/** The paths of the fleets that have read `group`'s parameters, in the order they did. */
export function parameterGroupUsers(group: object): readonly string[] {
  return users.get(group) ?? [];
}
