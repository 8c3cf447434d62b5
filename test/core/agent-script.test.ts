import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AGENT_COMMON, agentFile, agentScript, agentScriptPath } from '../../src/core/agent-script';

test('the node agent is found and is the POSIX shell program', () => {
  expect(fs.statSync(agentScriptPath()).mode & 0o111).not.toBe(0); // eslint-disable-line no-bitwise
  expect(agentScript().startsWith('#!/bin/sh\n')).toBe(true);
});

describe('the agent as shipped', () => {
  test('carries lib/common.sh in place of the lines that source it, and nothing else changes', () => {
    const source = fs.readFileSync(agentScriptPath(), 'utf8');
    const common = agentFile(AGENT_COMMON);
    const shipped = agentScript();
    expect(shipped).toContain(common.replace(/^# shellcheck shell=sh\n/, ''));
    expect(shipped).not.toContain('. "$AGENT_LIB"');
    const before = source.slice(0, source.indexOf('# cachefleet:common.sh begin'));
    const after = source.slice(source.indexOf('# cachefleet:common.sh end\n') + '# cachefleet:common.sh end\n'.length);
    expect(shipped.startsWith(before)).toBe(true);
    expect(shipped.endsWith(after)).toBe(true);
  });

  test('passes shellcheck as a POSIX sh program, helpers included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-shipped-'));
    try {
      fs.writeFileSync(path.join(dir, 'cachefleet-node'), agentScript());
      const result = spawnSync('shellcheck', ['-s', 'sh', 'cachefleet-node'], { cwd: dir, encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('runs alone, without lib/common.sh beside it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-shipped-'));
    try {
      fs.writeFileSync(path.join(dir, 'cachefleet-node'), agentScript(), { mode: 0o755 });
      const result = spawnSync(path.join(dir, 'cachefleet-node'), ['help'], { encoding: 'utf8' });
      expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toContain('usage: cachefleet-node');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
