import * as fs from 'fs';
import * as path from 'path';
import { PLANS } from './fixtures';
import { renderBundle } from '../../../src/core/render/bundle';
import { fillPlaceholders, placeholder, PLACEHOLDERS } from '../../../src/core/render/placeholders';

describe('fillPlaceholders', () => {
  test('replaces every placeholder, as often as it appears', () => {
    expect(fillPlaceholders('bind {{address}}\nreplica-announce-ip {{address}}\nmaxmemory {{maxmemory}}\n', {
      address: '10.0.1.10',
      maxmemory: '1073741824',
    })).toBe('bind 10.0.1.10\nreplica-announce-ip 10.0.1.10\nmaxmemory 1073741824\n');
  });

  test('inserts values literally: no pattern meaning, no second expansion', () => {
    expect(fillPlaceholders('dir "{{data-dir}}" {{address}}', { 'data-dir': '/var/$&/{{address}}', 'address': '$1' })).toBe(
      'dir "/var/$&/{{address}}" $1',
    );
  });

  test('values the templates do not use are ignored', () => {
    expect(fillPlaceholders('port 6379', { 'address': '10.0.0.1', 'app-password': 'secret' })).toBe('port 6379');
  });

  test.each([
    ['an unknown placeholder', 'bind {{adress}}', { address: '10.0.0.1' }, 'cannot fill the template: unknown placeholder {{adress}}'],
    ['a placeholder without a value', 'bind {{address}} {{maxmemory}}', { address: '10.0.0.1' }, 'cannot fill the template: no value for placeholder {{maxmemory}}'],
    ['a value with a double quote', 'masterauth "{{internal-password}}"', { 'internal-password': 'a"b' }, 'the value of {{internal-password}} contains a double quote'],
    ['a value with a backslash', 'dir "{{data-dir}}"', { 'data-dir': 'C:\\data' }, 'the value of {{data-dir}} contains'],
    ['a value with a line break', '-m\n{{memory-mb}}', { 'memory-mb': '64\n--port=1' }, 'the value of {{memory-mb}} contains'],
    ['an unclosed placeholder', 'bind {{address', { address: '10.0.0.1' }, 'a `{{` or `}}` that does not form a placeholder'],
    ['a stray closing brace pair', 'bind address}}', { address: '10.0.0.1' }, 'a `{{` or `}}` that does not form a placeholder'],
  ])('throws on %s', (_, template, values, message) => {
    expect(() => fillPlaceholders(template, values)).toThrow(message);
  });

  test('names every problem at once', () => {
    expect(() => fillPlaceholders('{{a}} {{address}} {{maxmemory}}', { maxmemory: '1' })).toThrow(
      'cannot fill the template: unknown placeholder {{a}}; no value for placeholder {{address}}',
    );
  });
});

describe('PLACEHOLDERS', () => {
  test('placeholder() writes the braces', () => {
    expect(placeholder('acl-file')).toBe('{{acl-file}}');
  });

  test('are exactly the placeholders docs/node-agent.md promises the agent fills', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../../docs/node-agent.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Placeholders'), doc.indexOf('## Live files'));
    const table = section.split('\n').filter((row) => row.startsWith('| `{{')).join('\n');
    const documented = [...table.matchAll(/\{\{([a-z0-9-]+)\}\}/g)].map((match) => match[1]);
    expect(new Set(documented)).toEqual(new Set(PLACEHOLDERS));
  });

  test.each(Object.entries(PLANS))('every placeholder of the %s bundle is known', (_, plan) => {
    const used = Object.values(renderBundle(plan())).flatMap((text) => [...text.matchAll(/\{\{([^{}]*)\}\}/g)].map((match) => match[1]));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name))).toEqual([]);
  });
});
