import { TerraformResource, TerraformStack, Token } from 'cdktf';
import { TokenCheck } from '../../core/validation';

/** Core's token check, with cdktf's tokens. */
export const CDKTF_TOKENS: TokenCheck = { isUnresolved: (value: unknown) => Token.isUnresolved(value) };

/**
 * Text Terraform must take literally: `${` and `%{` start template expressions in a Terraform JSON
 * string, so they are written `$${` and `%%{` (the shell agent is full of `${…}`).
 */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** A name Terraform accepts for a variable or an output: the fleet name with `_` for `-`. */
export function terraformName(fleet: string, suffix: string): string {
  return `${fleet.replace(/-/g, '_')}_${suffix}`;
}

/**
 * Gives a fleet's resource the logical ID `<fleet>_<suffix>` (`-` as `_`), which no move of the
 * construct in the tree changes: a new ID would make Terraform destroy the resource and create it
 * again (a data volume: empty). The ID the construct's path gave it before is moved to the new one
 * (a `moved` block), so that a fleet deployed with that ID keeps its resources; Terraform ignores a
 * `moved` block whose source is not in the state.
 */
export function pinLogicalId(resource: TerraformResource, fleet: string, suffix: string): void {
  // Not friendlyUniqueId: it keeps the first ID it computes, and the override would not take.
  const pathId = TerraformStack.of(resource).getLogicalId(resource);
  const pinned = terraformName(fleet, suffix.replace(/-/g, '_'));
  resource.overrideLogicalId(pinned);
  if (pathId !== pinned) resource.moveFromId(`${resource.terraformResourceType}.${pathId}`);
}
