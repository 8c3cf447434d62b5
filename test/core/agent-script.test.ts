import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AGENT_COMMON, AGENT_LIBRARIES, agentFile, agentScript, agentScriptPath, libraryMarkers } from '../../src/core/agent-script';

test('the node agent is found and is the POSIX shell program', () => {
  expect(fs.statSync(agentScriptPath()).mode & 0o111).not.toBe(0); // eslint-disable-line no-bitwise
  expect(agentScript().startsWith('#!/bin/sh\n')).toBe(true);
});

describe('the agent as shipped', () => {
  test('carries each library in place of the lines that source it, and nothing else changes', () => {
    const source = fs.readFileSync(agentScriptPath(), 'utf8');
    const shipped = agentScript();
    expect(AGENT_LIBRARIES).toEqual([AGENT_COMMON, 'lib/cluster-slots.sh', 'lib/backup.sh']);
    expect(shipped).not.toContain('. "$AGENT_LIB"');
    // Each library's text stands where its block stood; putting the blocks back gives the source.
    let restored = shipped;
    for (const relative of AGENT_LIBRARIES) {
      const { begin, end } = libraryMarkers(relative);
      const text = agentFile(relative).replace(/^# shellcheck shell=sh\n/, '');
      const inlined = `# ${relative} of cachefleet, as the agent ships:\n${text}# end of ${relative}\n`;
      expect(shipped.split(inlined)).toHaveLength(2);
      const block = source.slice(source.indexOf(begin), source.indexOf(end) + end.length);
      restored = restored.replace(inlined, () => block);
    }
    expect(restored).toBe(source);
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
