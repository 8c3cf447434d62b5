import { terraformLiteral, terraformName } from '../../../src/docker/private/terraform';

describe('terraformLiteral', () => {
  test('escapes template sequences so Terraform takes the text literally', () => {
    expect(terraformLiteral('a ${HOME} %{if x} $HOME $$ %d')).toBe('a $${HOME} %%{if x} $HOME $$ %d');
  });

  test('leaves text without sequences alone', () => {
    expect(terraformLiteral('port 6379\n')).toBe('port 6379\n');
  });
});

describe('terraformName', () => {
  test('hyphens become underscores', () => {
    expect(terraformName('my-cache', 'auth_token')).toBe('my_cache_auth_token');
  });
});
