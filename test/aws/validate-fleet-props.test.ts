import { SecretValue } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { testStack, valkey } from './fixtures';
import { ReplicationGroup } from '../../src/aws';
import { AUTH_TOKEN_RULE } from '../../src/core/validation';
import { thrown } from '../shared/thrown';


/** A replication group whose AUTH token is the secret `secret` builds in the stack. */
function withSecret(secret: (stack: ReturnType<typeof testStack>['stack']) => secretsmanager.ISecret): () => ReplicationGroup {
  const { stack, vpc } = testStack();
  return () => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, authToken: secret(stack) });
}

describe('authToken: the AUTH token rule where the app decides the secret\'s value', () => {
  test.each<[string, secretsmanager.SecretProps, string]>([
    ['Secrets Manager\'s defaults (punctuation holds ", / and @)', {},
      `must generate ${AUTH_TOKEN_RULE.allowed}: add "\\"", "/", "@" to excludeCharacters, got: "a secret that generates with the defaults"`],
    ['a space allowed', { generateSecretString: { includeSpace: true, excludePunctuation: true } },
      `must generate ${AUTH_TOKEN_RULE.allowed}: add " " to excludeCharacters, got: "a secret that generates with excludePunctuation: true, includeSpace: true"`],
    ['only part of the refused characters excluded', { generateSecretString: { excludeCharacters: '"/' } },
      `must generate ${AUTH_TOKEN_RULE.allowed}: add "@" to excludeCharacters, got: "a secret that generates with excludeCharacters: \\"\\\\\\"/\\""`],
    ['8 characters', { generateSecretString: { passwordLength: 8, excludePunctuation: true } },
      `must generate ${AUTH_TOKEN_RULE.allowed}: a passwordLength between 16 and 128, got: "a secret that generates with excludePunctuation: true, passwordLength: 8"`],
    ['200 characters', { generateSecretString: { passwordLength: 200, excludePunctuation: true } },
      `must generate ${AUTH_TOKEN_RULE.allowed}: a passwordLength between 16 and 128, got: "a secret that generates with excludePunctuation: true, passwordLength: 200"`],
    ['a JSON document', { generateSecretString: { generateStringKey: 'token', secretStringTemplate: '{}', excludePunctuation: true } },
      'must hold the AUTH token as a plain string, not a JSON document: unset generateStringKey and secretStringTemplate, got: '
      + '"a secret that generates with excludePunctuation: true, generateStringKey: \\"token\\", secretStringTemplate: \\"{}\\""'],
  ])('refuses a secret the app generates with %s', (_what, props, allowed) => {
    const error = thrown(withSecret((stack) => new secretsmanager.Secret(stack, 'Token', props)));
    expect(error.name).toBe('ValidationError');
    expect(error.propPath).toBe('authToken');
    expect(error.message).toContain(`\`authToken\` ${allowed}`);
  });

  test('refuses a value written in the app that breaks the rule, without showing it', () => {
    const error = thrown(withSecret((stack) => new secretsmanager.Secret(stack, 'Token', { secretStringValue: SecretValue.unsafePlainText('p@ss') })));
    expect(error.propPath).toBe('authToken');
    expect(error.message).toContain(`\`authToken\` must be ${AUTH_TOKEN_RULE.allowed}, got: a 4-character string`);
    expect(error.message).not.toContain('p@ss');
  });

  test.each<[string, (stack: any) => secretsmanager.ISecret]>([
    ['generated without the refused characters', (stack) => new secretsmanager.Secret(stack, 'Token', { generateSecretString: { excludeCharacters: ' "/@' } })],
    ['generated without punctuation', (stack) => new secretsmanager.Secret(stack, 'Token', { generateSecretString: { excludePunctuation: true, passwordLength: 16 } })],
    ['written in the app and following the rule', (stack) => new secretsmanager.Secret(stack, 'Token', { secretStringValue: SecretValue.unsafePlainText('Str0ng-token-of-24-chars') })],
    ['imported (the node agent checks its value when it reads it)', (stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'sessions-token')],
  ])('accepts a secret %s', (_what, secret) => {
    expect(withSecret(secret)).not.toThrow();
  });

  test('the secret the fleet generates excludes the refused characters, and those a shell or a URL would need quoted', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey });
    const secrets = Object.values<any>(Template.fromStack(stack).findResources('AWS::SecretsManager::Secret'));
    const auth = secrets.find((s) => String(s.Properties.Description).includes('AUTH token'));
    const { PasswordLength, ExcludeCharacters } = auth.Properties.GenerateSecretString;
    expect(PasswordLength).toBeGreaterThanOrEqual(AUTH_TOKEN_RULE.minLength);
    expect(PasswordLength).toBeLessThanOrEqual(AUTH_TOKEN_RULE.maxLength);
    expect(ExcludeCharacters).toBe(`${AUTH_TOKEN_RULE.refusedCharacters}\\'\``);
  });
});
