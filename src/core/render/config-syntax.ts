/**
 * redis.conf syntax, shared by the Redis, Valkey and Sentinel files. The servers split a line into
 * arguments at spaces; an argument may be double-quoted, with `\"`, `\\`, `\n`, `\xHH` escapes, and
 * `""` is the empty argument. A `'` or `"` anywhere in a bare argument starts a quoted one.
 */

/** Printable ASCII other than space, the two quote characters and backslash: safe as a bare argument. */
const BARE = /^[!#-&(-[\]-~]+$/;

/** One argument, bare when it can be, else double-quoted with escapes. */
export function confArgument(value: string): string {
  if (BARE.test(value)) return value;
  let text = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') text += `\\${char}`;
    else if (char === '\n') text += '\\n';
    else if (char === '\r') text += '\\r';
    else if (char === '\t') text += '\\t';
    else if (code < 0x20 || code === 0x7f) text += `\\x${code.toString(16).padStart(2, '0')}`;
    else text += char;
  }
  return `${text}"`;
}

/**
 * The arguments of a parameter's value. `""` and the empty string are the empty value. A value of
 * plain words separated by spaces is written as that many arguments: multi-argument directives
 * (`client-output-buffer-limit normal 0 0 0`, `latency-tracking-info-percentiles 50 99 99.9`) need
 * it, Redis 6.2 reading them only so. Anything else is one quoted argument, so that no value can
 * end the line and start another directive.
 */
export function parameterArguments(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === '""') return '""';
  const words = trimmed.split(/ +/);
  if (words.every((word) => BARE.test(word))) return words.join(' ');
  return confArgument(value);
}

/**
 * A template argument in double quotes, for a placeholder whose value may hold spaces (a path). The
 * value itself must hold no `"` or `\` (`fillPlaceholders` refuses them).
 */
export function quoted(template: string): string {
  return `"${template}"`;
}

/** A directive line: the name and its already-formed arguments. */
export function line(name: string, ...args: Array<string | number>): string {
  return [name, ...args.map(String)].join(' ');
}

/** A file's text: its lines, each ended by a newline. */
export function fileText(lines: string[]): string {
  return lines.map((text) => `${text}\n`).join('');
}
