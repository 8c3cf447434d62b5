import { Fn, TerraformVariable } from 'cdktf';
import { dockerStack, synthJson } from './synth';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { AUTH_TOKEN_RULE } from '../../src/core/validation';
import { AuthToken, ReplicationGroup } from '../../src/docker';
import { thrown } from '../shared/thrown';

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 });

/** AUTH_TOKEN_RULE as the Terraform condition every Terraform-side entry of a token applies. */
function rule(value: string): string {
  const { minLength, maxLength, pattern } = AUTH_TOKEN_RULE;
  return `\${(((length(${value}) >= ${minLength}) && (length(${value}) <= ${maxLength})) && can(regex(${JSON.stringify(pattern)}, ${value})))}`;
}


describe('AuthToken.fromVariable: a default written in code is checked at synth', () => {
  test.each<[string, string]>([
    ['too short', 'short-token'],
    ['an @', 'abcdefgh@ijklmnopq'],
    ['a space', 'abcdefgh ijklmnopq'],
    ['129 characters', 'a'.repeat(129)],
  ])('refuses a default that breaks the rule: %s, without showing it', (_what, token) => {
    const variable = new TerraformVariable(dockerStack(), 'token', { type: 'string', sensitive: true, default: token });
    const error = thrown(() => AuthToken.fromVariable(variable));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`\`AuthToken.fromVariable(variable).default\` must be ${AUTH_TOKEN_RULE.allowed}, got: a ${token.length}-character string`);
    expect(error.message).not.toContain(token);
  });

  test.each<[string, unknown]>([
    ['no default', undefined],
    ['a default that follows the rule', 'Str0ng-token-of-24-chars'],
    ['a default Terraform computes', Fn.lower('X')],
  ])('accepts %s', (_what, fallback) => {
    const variable = new TerraformVariable(dockerStack(), 'token', { type: 'string', sensitive: true, default: fallback });
    expect(() => AuthToken.fromVariable(variable)).not.toThrow();
  });

  test('refuses what is no TerraformVariable', () => {
    const error = thrown(() => AuthToken.fromVariable('var.token' as any));
    expect(error.message).toBe('`AuthToken.fromVariable(variable)` must be a TerraformVariable, got: "var.token"');
  });
});

describe('every entry of a token applies core\'s one rule', () => {
  test('the fleet\'s own variables (validation), a variable and a file of the user\'s (precondition at plan)', () => {
    // GIVEN
    const stack = dockerStack();
    const mine = new TerraformVariable(stack, 'mine', { type: 'string', sensitive: true });
    new ReplicationGroup(stack, 'Sessions', { engine: redis, authToken: AuthToken.fromVariable(mine), internalAuthToken: AuthToken.fromFile('/secrets/internal') });

    // WHEN
    const json = synthJson(stack);
    const [image] = Object.values<any>(json.resource.docker_image);

    // THEN
    expect(json.variable.sessions_admin_token.validation.map((v: any) => v.condition)).toEqual([rule('var.sessions_admin_token')]);
    expect(image.lifecycle.precondition.map((p: any) => p.condition)).toEqual([rule('var.mine'), rule('sensitive(trimspace(file("/secrets/internal")))')]);
    const defaults = dockerStack();
    new ReplicationGroup(defaults, 'Sessions', { engine: redis });
    expect(synthJson(defaults).variable.sessions_auth_token.validation.map((v: any) => v.condition)).toEqual([rule('var.sessions_auth_token')]);
  });
});
