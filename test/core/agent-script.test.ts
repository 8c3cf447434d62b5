import * as fs from 'fs';
import { agentScript, agentScriptPath } from '../../src/core/agent-script';

test('the node agent is found and is the POSIX shell program', () => {
  expect(fs.statSync(agentScriptPath()).mode & 0o111).not.toBe(0); // eslint-disable-line no-bitwise
  expect(agentScript().startsWith('#!/bin/sh\n')).toBe(true);
});
