import { PLANS, redisPlan } from './fixtures';
import { renderUsersAcl } from '../../../src/core/render/users-acl';

describe('renderUsersAcl', () => {
  test('default off, then the application, sentinel and replication users', () => {
    // GIVEN
    const plan = redisPlan({ dataAddresses: ['10.0.0.10', '10.0.1.10'], applicationUser: 'orders' });

    // WHEN
    const text = renderUsersAcl(plan);

    // THEN
    expect(text.split('\n')).toEqual([
      'user default off resetpass resetkeys resetchannels -@all',
      'user orders on #{{app-password-sha256}} ~* &* +@all',
      'user cachefleet-sentinel on #{{internal-password-sha256}} resetkeys resetchannels &__sentinel__:hello -@all ' +
        '+ping +info +role +publish +subscribe +client|setname +multi +slaveof +config|rewrite +client|kill +exec +script|kill',
      'user cachefleet-replication on #{{internal-password-sha256}} resetkeys resetchannels -@all +psync +replconf +ping',
      '',
    ]);
  });

  test('only user lines (an ACL file takes no comment) and no password in clear', () => {
    const lines = renderUsersAcl(PLANS.replicationGroup()).trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('user '))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/>|\{\{(app|internal)-password\}\}/);
  });

  test('refuses a Memcached plan', () => {
    expect(() => renderUsersAcl(PLANS.memcached())).toThrow('users.acl is not part of a memcached fleet');
  });
});
