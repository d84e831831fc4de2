/**
 * What the sidecar does after it rewrote files: signal the app (found by pid file, or by process
 * name when the pod shares its process namespace) or run a command (argv, no shell).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.ts';

type OnChange = NonNullable<AgentConfig['onChange']>;

/** Pids whose /proc comm or argv[0] basename equals `name` (not the agent itself). */
export async function pidsByName(name: string, procRoot = '/proc'): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const comm = (await readFile(`${procRoot}/${e}/comm`, 'utf8')).trim();
      const argv0 = (await readFile(`${procRoot}/${e}/cmdline`, 'utf8')).split('\0')[0] ?? '';
      if (comm === name || (argv0 !== '' && basename(argv0) === name)) out.push(Number(e));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

export function onChangeAction(o: OnChange, log: Logger): (changed: string[]) => Promise<void> {
  return async (changed) => {
    if (o.command) {
      const [cmd, ...args] = o.command;
      await new Promise<void>((resolve) => {
        const child = spawn(cmd!, args, { stdio: 'inherit' });
        child.once('error', (err) => {
          log.warn({ code: (err as NodeJS.ErrnoException).code }, 'on-change command did not start');
          resolve();
        });
        child.once('exit', (code, signal) => {
          if (code !== 0) log.warn({ exitCode: code, signal }, 'on-change command failed');
          resolve();
        });
      });
      return;
    }
    let pids: number[] = [];
    if (o.pidFile) {
      const text = await readFile(o.pidFile, 'utf8').catch(() => '');
      const pid = Number(text.trim());
      if (Number.isSafeInteger(pid) && pid > 0) pids = [pid];
      else log.warn({ pidFile: o.pidFile }, 'on-change pid file missing or not a pid');
    } else if (o.processName) {
      pids = await pidsByName(o.processName);
      if (!pids.length) log.warn({ processName: o.processName }, 'on-change found no process by that name (is shareProcessNamespace on?)');
    }
    for (const pid of pids) {
      try {
        process.kill(pid, o.signal as NodeJS.Signals);
        log.info({ pid, signal: o.signal, changed }, 'signalled');
      } catch (err) {
        log.warn({ pid, signal: o.signal, code: (err as NodeJS.ErrnoException).code }, 'on-change signal failed');
      }
    }
  };
}
