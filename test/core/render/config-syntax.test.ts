import { confArgument, fileText, line, parameterArguments, quoted } from '../../../src/core/render/config-syntax';

describe('confArgument', () => {
  test.each([
    ['allkeys-lru', 'allkeys-lru'],
    ['KEA$', 'KEA$'],
    ['100mb', '100mb'],
    ['', '""'],
    ['two words', '"two words"'],
    ['it\'s', '"it\'s"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['line\nbreak', '"line\\nbreak"'],
    ['bell\u0007', '"bell\\x07"'],
  ])('%j -> %s', (value, written) => {
    expect(confArgument(value)).toBe(written);
  });
});

describe('parameterArguments', () => {
  test.each([
    ['volatile-lru', 'volatile-lru'],
    ['Ex', 'Ex'],
    ['', '""'],
    ['""', '""'],
    ['  ', '""'],
    ['normal 0 0 0', 'normal 0 0 0'],
    ['50 99 99.9', '50 99 99.9'],
    // A value that could end the line becomes one quoted argument.
    ['x\nrequirepass y', '"x\\nrequirepass y"'],
    ['a "b"', '"a \\"b\\""'],
  ])('%j -> %s', (value, written) => {
    expect(parameterArguments(value)).toBe(written);
  });
});

describe('lines', () => {
  test('a directive joins its arguments with spaces; a file ends every line', () => {
    expect(fileText([line('sentinel', 'monitor', 'm', '10.0.0.1', 6379, 2), line('dir', quoted('{{data-dir}}'))])).toBe(
      'sentinel monitor m 10.0.0.1 6379 2\ndir "{{data-dir}}"\n',
    );
  });
});
