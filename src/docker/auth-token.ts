import { Fn, TerraformVariable, Token } from 'cdktf';
import { ValidationError } from '../core/errors';
import { requireAuthTokenRule } from '../core/validation';

/**
 * The AUTH token of a Docker fleet: a reference Terraform resolves at plan time, never a literal in
 * the synthesized configuration.
 */
export class AuthToken {
  /**
   * The token is the value of a Terraform variable; declare it `sensitive`. Its value is checked
   * against the AUTH token's rule at plan time, and a default given in code at synth time.
   */
  public static fromVariable(variable: TerraformVariable): AuthToken {
    if (!(variable instanceof TerraformVariable)) {
      throw new ValidationError('AuthToken.fromVariable(variable)', variable, 'must be a TerraformVariable');
    }
    const fallback: unknown = variable.default;
    if (typeof fallback === 'string' && !Token.isUnresolved(fallback)) {
      // The factory does not know which prop it is for: it names itself.
      requireAuthTokenRule('AuthToken.fromVariable(variable).default', fallback);
    }
    return new AuthToken(variable.stringValue);
  }

  /**
   * The token is the content of a file on the machine that runs Terraform (surrounding white space
   * removed), read at plan time and marked sensitive.
   *
   * @param path the file's path, absolute or relative to the Terraform working directory
   */
  public static fromFile(path: string): AuthToken {
    if (typeof path !== 'string' || (!Token.isUnresolved(path) && path.trim() === '')) {
      // The factory does not know which prop it is for (`authToken` or `internalAuthToken`): it names itself.
      throw new ValidationError('AuthToken.fromFile(path)', path, 'must be a non-empty file path');
    }
    return new AuthToken(Fn.sensitive(Fn.trimspace(Fn.file(path))));
  }

  private constructor(
    /** The Terraform reference to the token. */
    public readonly value: string,
  ) {}
}
