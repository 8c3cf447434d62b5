import { PLANS, REDIS_6, REDIS_7, redisPlan } from './fixtures';
import { renderUsersAcl } from '../../../src/core/render/users-acl';

describe('renderUsersAcl', () => {
  test('default off, then the application, admin, sentinel and replication users', () => {
    // GIVEN
    const plan = redisPlan({ dataAddresses: ['10.0.0.10', '10.0.1.10'], applicationUser: 'orders' });

    // WHEN
    const text = renderUsersAcl(plan);

    // THEN
    expect(text.split('\n')).toEqual([
      'user default off resetpass resetkeys resetchannels -@all',
      'user orders on #{{app-password-sha256}} ~* &* +@all -@dangerous +info +role +keys +sort +flushdb +flushall +swapdb ' +
        '+client|setname +client|getname +client|id +client|info +client|reply +client|tracking +client|trackinginfo ' +
        '+client|caching +client|getredir +sort_ro',
      'user cachefleet-admin on #{{admin-password-sha256}} ~* &* +@all',
      'user cachefleet-sentinel on #{{internal-password-sha256}} resetkeys resetchannels &__sentinel__:hello -@all ' +
        '+ping +info +role +publish +subscribe +client|setname +multi +slaveof +config|rewrite +client|kill +exec +script|kill',
      'user cachefleet-replication on #{{internal-password-sha256}} resetkeys resetchannels -@all +psync +replconf +ping',
      '',
    ]);
  });

  test('only user lines (an ACL file takes no comment) and no password in clear', () => {
    const lines = renderUsersAcl(PLANS.replicationGroup()).trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('user '))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/>|\{\{(app|internal|admin)-password\}\}/);
  });

  test('Redis 6.2: no SORT_RO, a command 6.2 does not have (an unknown command in an ACL file stops the server)', () => {
    const app = (engine: typeof REDIS_6) => renderUsersAcl(redisPlan({ engine, dataAddresses: ['10.0.0.10'] })).split('\n')[1];
    expect(app(REDIS_6)).not.toContain('sort_ro');
    expect(app(REDIS_6)).toContain('+@all -@dangerous +info +role');
    expect(app(REDIS_7)).toMatch(/ \+sort_ro$/);
  });

  test('the application user and the admin user hold different secrets', () => {
    const lines = renderUsersAcl(PLANS.replicationGroup()).split('\n');
    expect(lines.find((line) => line.startsWith('user app '))).toContain('#{{app-password-sha256}}');
    expect(lines.find((line) => line.startsWith('user cachefleet-admin '))).toBe('user cachefleet-admin on #{{admin-password-sha256}} ~* &* +@all');
  });

  test('refuses a Memcached plan', () => {
    expect(() => renderUsersAcl(PLANS.memcached())).toThrow('users.acl is not part of a memcached fleet');
  });
});
