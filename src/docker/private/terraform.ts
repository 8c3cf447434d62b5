import { Token } from 'cdktf';
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
