/**
 * The `{{placeholders}}` of the bundle's templates: values only a node knows at boot. The node
 * agent fills them (docs/node-agent.md, "Placeholders"); `fillPlaceholders` is the same rule in
 * TypeScript, for the tests that check a rendered file by running it.
 */
export const PLACEHOLDERS = [
  'address',
  'data-dir',
  'sentinel-dir',
  'acl-file',
  'maxmemory',
  'memory-mb',
  'replica-output-buffer-hard',
  'replica-output-buffer-soft',
  'app-password',
  'app-password-sha256',
  'internal-password',
  'internal-password-sha256',
  'admin-password',
  'admin-password-sha256',
  'on-failover-hook',
] as const;

/** The name of a placeholder, without its braces. */
export type PlaceholderName = (typeof PLACEHOLDERS)[number];

/** The values to fill a template with, by placeholder name. */
export type PlaceholderValues = Readonly<Partial<Record<PlaceholderName, string>>>;

/** The text a template carries for a placeholder; renderers use it so a misspelt name cannot compile. */
export function placeholder(name: PlaceholderName): string {
  return `{{${name}}}`;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/**
 * Characters a value must not contain: templates put some values inside double quotes (a `"` would
 * end the argument, a `\` starts an escape) and memcached arguments one per line (a line break would
 * add an argument). Refusing them keeps "values are inserted literally" true.
 */
const UNSAFE_VALUE = /["\\\u0000-\u001f\u007f]/;

/**
 * Replaces every `{{name}}` of a template with its value, inserted literally (a value is never
 * scanned for placeholders or given any pattern meaning). Strict, like the agent: a placeholder that
 * is not one of `PLACEHOLDERS`, a placeholder with no value, a malformed `{{`/`}}`, or a value with a
 * double quote, backslash or control character throws an error naming every problem.
 */
export function fillPlaceholders(template: string, values: PlaceholderValues): string {
  const problems: string[] = [];
  const known = new Set<string>(PLACEHOLDERS);
  const filled = template.replace(PLACEHOLDER, (match, name: string) => {
    if (!known.has(name)) {
      problems.push(`unknown placeholder ${match}`);
      return match;
    }
    const value = values[name as PlaceholderName];
    if (value === undefined) {
      problems.push(`no value for placeholder ${match}`);
      return match;
    }
    if (UNSAFE_VALUE.test(value)) {
      problems.push(`the value of ${match} contains a double quote, a backslash or a control character`);
      return match;
    }
    return value;
  });
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    problems.push('a `{{` or `}}` that does not form a placeholder');
  }
  if (problems.length > 0) {
    throw new Error(`cannot fill the template: ${[...new Set(problems)].join('; ')}`);
  }
  return filled;
}
