import { memcachedPlan, PLANS } from './fixtures';
import { renderMemcachedArgs } from '../../../src/core/render/memcached-args';

describe('renderMemcachedArgs', () => {
  test('one argument per line: address, port, no UDP, memory, then the parameters', () => {
    // GIVEN
    const plan = memcachedPlan(['10.0.0.10'], [['max_simultaneous_connections', '65000'], ['cas_disabled', '1']], 11311);

    // WHEN
    const text = renderMemcachedArgs(plan);

    // THEN
    expect(text).toBe(['--listen={{address}}', '--port=11311', '--udp-port=0', '--memory-limit={{memory-mb}}', '--conn-limit=65000', '--disable-cas', ''].join('\n'));
  });

  test('the catalog\'s defaults, as the planner resolves them, follow the fixed arguments', () => {
    const lines = renderMemcachedArgs(PLANS.memcached()).trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['--listen={{address}}', '--port=11211', '--udp-port=0', '--memory-limit={{memory-mb}}']);
    expect(lines.slice(4)).toEqual(expect.arrayContaining(['--conn-limit=65000', '--max-item-size=1048576', '--threads=4', '--extended=lru_crawler']));
  });

  test('a value that would split into two arguments is refused', () => {
    expect(() => renderMemcachedArgs(memcachedPlan(['10.0.0.10'], [['binding_protocol', 'auto --port=1']]))).toThrow(
      'memcached argument "--protocol=auto --port=1" of fleet "pages" would not stay one line and one argument',
    );
  });

  test('no line holds a space: a line is one argument however the agent reads it', () => {
    expect(renderMemcachedArgs(PLANS.memcached()).trimEnd().split('\n').some((line) => /\s/.test(line))).toBe(false);
  });

  test('no user: the agent adds it when it runs as root', () => {
    expect(renderMemcachedArgs(PLANS.memcached())).not.toMatch(/^(-u|--user)/m);
  });

  test('refuses a Redis plan', () => {
    expect(() => renderMemcachedArgs(PLANS.standalone())).toThrow('memcached.args is not part of a redis fleet');
  });
});
