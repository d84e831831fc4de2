/**
 * The README works as written: every command in its ```bash blocks is run, in order, the way a
 * newcomer would run it, so a README edit that breaks a command fails here. Ordinary lines run
 * verbatim in bash from the repo root; a few lines need the test to play the user's part (start a
 * long-running server, paste the banner's exports, type unseal shares) and are handled by the
 * RUNNERS below, matched on the command itself. Only one README command is not run, `npm test`, for
 * the reason stated in NOT_RUN (and the `npm ci` half of `npm ci && npm start` is left out by its
 * runner, which says why). Ports and data dirs are the test's own (ARCA_LISTEN, a temp dir), so it
 * can run beside other tests.
 *
 * Commands the README names inline, in prose (`arca kms rotate`, `./bin/arca server --dev`), are not
 * run, but each must exist and take the flags shown: see inlineCommands and the last test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../harness/arca.ts';
import { freePort, stopChild, tempDir, waitFor } from '../harness/index.ts';
import { runArca } from '../../src/cli/testing.ts';
import { mapLimit } from '../../src/k8s/etcd/index.ts';

interface Block {
  section: string;
  commands: string[];
}

/** The ```bash blocks of README.md with the `##` section they sit in; trailing `# comments` dropped. */
function readmeBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let section = '';
  let current: Block | undefined;
  for (const line of text.split('\n')) {
    if (current) {
      if (line.startsWith('```')) {
        blocks.push(current);
        current = undefined;
      } else if (line.trim() !== '') current.commands.push(line.replace(/\s+#\s.*$/, '').trim());
    } else if (line.startsWith('## ')) section = line.slice(3).trim();
    else if (/^```(bash|sh)\s*$/.test(line)) current = { section, commands: [] };
  }
  return blocks;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(command: string, env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    // No input: stdin is /dev/null, as for a user who types nothing (and no EPIPE if it never reads).
    const child = spawn('bash', ['-euo', 'pipefail', '-c', command], { cwd: REPO_ROOT, env, stdio: [input === '' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits before reading: its exit code tells
      child.stdin.end(input);
    }
  });
}

/** A long-running process started the README's way, with its output kept. */
function background(command: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn('bash', ['-c', `exec ${command}`], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

interface Session {
  env: NodeJS.ProcessEnv;
  addr: string;
  shares: string[];
  children: ChildProcess[];
  tmp: { path: string; remove(): Promise<void> };
  /** Output of the last dev server, for the banner's export lines. */
  devOutput: () => string;
}

async function waitHealthy(s: Session, child: ChildProcess, output: () => string): Promise<void> {
  await waitFor('server answering sys/seal-status', async () => {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output()}`);
    const r = await fetch(`${s.addr}/v1/sys/seal-status`).catch(() => undefined);
    return r?.status === 200 ? true : undefined;
  }, 60_000, 100);
}

interface InlineCommand {
  /** The code span as written (whitespace collapsed). */
  span: string;
  /** The command path: the leading lowercase words after `arca` (subcommands, or a leaf's lowercase arguments). */
  words: string[];
  /** Every `--flag` the command shows, without its value. */
  flags: string[];
}

/** Shell operators that end the command in a span (`arca x | jq`): what follows is another program. */
const SHELL_OPERATORS = new Set(['|', '||', '&&', ';']);
/** A command word: a subcommand name (or a leaf command's lowercase argument, told apart by its help). */
const COMMAND_WORD = /^[a-z][a-z0-9-]*$/;

/**
 * The arca commands README.md names in inline code, by one rule, no exceptions: every inline code span
 * outside fenced blocks (single backticks; a span may wrap a line, never a paragraph) whose text starts
 * with `arca ` or `./bin/arca `. Its words are split on whitespace; a standalone shell operator ends
 * the command. A word `a|b|c` is alternatives: each span yields one command per combination. The
 * command path is the words after `arca` up to the first that is not a lowercase name (a flag, a
 * placeholder such as FILE, <x> or [--x], a path, a value); the flags are every `--name` after it.
 */
function inlineCommands(text: string): InlineCommand[] {
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
  const out: InlineCommand[] = [];
  for (const m of prose.matchAll(/`([^`]+)`/g)) {
    if (/\n\s*\n/.test(m[1]!)) continue; // not a span: backticks of two paragraphs
    const span = m[1]!.replace(/\s+/g, ' ').trim();
    const head = /^(?:\.\/bin\/)?arca (.*)$/.exec(span);
    if (!head) continue;
    const all = head[1]!.split(' ');
    const stop = all.findIndex((w) => SHELL_OPERATORS.has(w));
    let variants: string[][] = [[]];
    for (const w of stop < 0 ? all : all.slice(0, stop)) {
      const alternatives = w.includes('|') ? w.split('|').filter((a) => a !== '') : [w];
      variants = variants.flatMap((v) => alternatives.map((a) => [...v, a]));
    }
    for (const v of variants) {
      const n = v.findIndex((w) => !COMMAND_WORD.test(w));
      const words = n < 0 ? v : v.slice(0, n);
      const flags = (n < 0 ? [] : v.slice(n)).flatMap((w) => [...w.matchAll(/(?:^|[[(])(--[a-z0-9][a-z0-9-]*)/g)].map((f) => f[1]!));
      out.push({ span, words, flags: [...new Set(flags)] });
    }
  }
  return out;
}

/** `bin/arca <words> --help` (the CLI tests' one runner). */
async function arcaHelp(words: string[]): Promise<Run> {
  const r = await runArca(process.env, [...words, '--help']);
  return { code: r.code, stdout: r.out, stderr: r.stderr };
}


/**
 * What is wrong with an inline command, judged by its help, or undefined. `--help` alone is not
 * enough: for an unknown word commander prints the nearest parent's help and exits 0, so the help's
 * `Usage: arca <path>` must name the span's command path — or a leaf command whose usage takes
 * arguments, the rest of the words being those arguments.
 */
function helpProblem(c: InlineCommand, help: Run): string | undefined {
  if (help.code !== 0) return `\`arca ${c.words.join(' ')} --help\` exited ${help.code}: ${help.stderr.trim()}`;
  const usage = /^Usage: arca((?: [a-z][a-z0-9-]*)*)((?: .*)?)$/m.exec(help.stdout);
  if (!usage) return `\`arca ${c.words.join(' ')} --help\` printed no "Usage: arca ..." line`;
  const path = usage[1]!.trim() === '' ? [] : usage[1]!.trim().split(' ');
  const rest = c.words.slice(path.length);
  if (path.some((w, i) => c.words[i] !== w)) return `the help of \`arca ${c.words.join(' ')}\` is that of \`arca ${path.join(' ')}\``;
  if (rest.length > 0) {
    const parent = `arca${path.map((w) => ` ${w}`).join('')}`;
    if (/^Commands:/m.test(help.stdout)) return `\`${rest[0]}\` is not a subcommand of \`${parent}\``;
    if (!/[<[]/.test(usage[2]!.replace(/\[options\]/g, ''))) return `\`${parent}\` takes no arguments, but the span gives \`${rest.join(' ')}\``;
  }
  const missing = c.flags.filter((f) => !new RegExp(`(?:^|[\\s,])${f}(?=[\\s,=]|$)`, 'm').test(help.stdout));
  if (missing.length) return `\`arca ${path.join(' ')} --help\` lists no ${missing.join(', ')}`;
  return undefined;
}

/** Commands not run here, and why. */
const NOT_RUN: [RegExp, string][] = [
  [/^npm test$/, 'this test is part of `npm test`'],
];

/** Lines where the test plays the user's part; matched on the README command. */
const RUNNERS: [RegExp, (s: Session, command: string) => Promise<void>][] = [
  [
    /^npm ci && npm start$/,
    // `npm ci` would reinstall the dependencies this very run uses (and needs the network): the
    // clone under test is already installed, which is what `npm ci` leaves behind.
    async (s) => {
      const dev = background('npm start', s.env);
      s.children.push(dev.child);
      s.devOutput = dev.output;
      await waitHealthy(s, dev.child, dev.output);
      await waitFor('dev banner', async () => (/export ARCA_TOKEN=/.test(dev.output()) ? true : undefined), 30_000);
      // `npm start` built the web UI first: the server serves it.
      const ui = await fetch(`${s.addr}/ui/`);
      assert.equal(ui.status, 200, 'npm start serves the built web UI at /ui/');
      assert.match(await ui.text(), /<div id="root">/);
    },
  ],
  [
    /^export ARCA_ADDR=\S+ ARCA_TOKEN=<root token>$/,
    // The user pastes the banner's export lines: evaluate exactly those.
    async (s) => {
      const exports = s.devOutput().split('\n').map((l) => l.trim()).filter((l) => l.startsWith('export ARCA_'));
      assert.deepEqual(exports.map((l) => /^export (ARCA_\w+)=/.exec(l)?.[1]), ['ARCA_ADDR', 'ARCA_TOKEN']);
      const r = await sh(`${exports.join('\n')}\nprintf '%s\\n' "$ARCA_ADDR" "$ARCA_TOKEN"`, s.env);
      const [addr, token] = r.stdout.split('\n');
      assert.equal(addr, s.addr);
      assert.ok(token && token.length > 10);
      s.env = { ...s.env, ARCA_ADDR: addr, ARCA_TOKEN: token };
    },
  ],
  [
    /^\.\/bin\/arca server --data-dir \/var\/lib\/arca$/,
    async (s) => {
      for (const c of s.children) await stopChild(c);
      const { ARCA_TOKEN: _, ...env } = s.env;
      s.env = env;
      const srv = background(`./bin/arca server --data-dir ${join(s.tmp.path, 'data')}`, s.env);
      s.children.push(srv.child);
      await waitHealthy(s, srv.child, srv.output);
    },
  ],
  [
    /^\.\/bin\/arca operator init /,
    async (s, command) => {
      const r = await sh(command, s.env);
      assert.equal(r.code, 0, r.stderr);
      s.shares = [...r.stdout.matchAll(/^Unseal Key \d+: (\S+)$/gm)].map((m) => m[1]!);
      assert.equal(s.shares.length, 5);
      s.env = { ...s.env, ARCA_TOKEN: /^Initial Root Token: (\S+)$/m.exec(r.stdout)![1] };
    },
  ],
  [
    /^\.\/bin\/arca operator unseal$/,
    // "three times, with three different shares", typed at the prompt.
    async (s, command) => {
      for (const share of s.shares.slice(0, 3)) {
        const r = await sh(command, s.env, `${share}\n`);
        assert.equal(r.code, 0, r.stderr);
      }
    },
  ],
];

/** What some verbatim commands must print, beyond exiting 0. */
const EXPECT: [RegExp, RegExp][] = [
  [/secret get \S+ --field password$/, /^s3cret\n$/],
  [/secret get secret\/app\/db$/, /password\s+s3cret/],
  [/encrypt --key/, /^vault:v1:[A-Za-z0-9+/=]+\n$/m],
  [/arca status$/, /Sealed\s+false/],
];

describe('README', () => {
  const blocks = readmeBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  let session: Session | undefined;
  after(async () => {
    for (const c of session?.children ?? []) await stopChild(c);
    // Should `npm start` ever stop forwarding signals again, its server would outlive npm: end it.
    const devPid = Number(/"pid":(\d+)/.exec(session?.devOutput() ?? '')?.[1] ?? 0);
    // Only if that pid is still our dev server (a pid can be reused once it has exited).
    const cmdline = devPid > 0 ? await readFile(`/proc/${devPid}/cmdline`, 'utf8').catch(() => '') : '';
    if (cmdline.includes(REPO_ROOT) && cmdline.includes('--dev')) process.kill(devPid, 'SIGKILL');
    await session?.tmp.remove();
  });

  it('has a Quickstart of exactly two commands: start on embedded defaults, run every test', () => {
    const quick = blocks.filter((b) => b.section === 'Quickstart').flatMap((b) => b.commands);
    assert.deepEqual(quick, ['npm ci && npm start', 'npm test']);
  });

  it('runs every command of every bash block, in order, and each succeeds', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const addr = `http://127.0.0.1:${port}`;
    const tmp = await tempDir('arca-readme-');
    // ARCA_LISTEN/ARCA_ADDR stand in for the default 127.0.0.1:8200, which another test may hold.
    const { ARCA_TOKEN: _t, VAULT_TOKEN: _v, ...base } = process.env;
    session = { env: { ...base, ARCA_LISTEN: `127.0.0.1:${port}`, ARCA_ADDR: addr, ARCA_LOG_LEVEL: 'warn' }, addr, shares: [], children: [], tmp, devOutput: () => '' };
    const s = session;
    let ran = 0;
    for (const block of blocks) {
      for (const command of block.commands) {
        if (NOT_RUN.some(([re]) => re.test(command))) continue;
        const runner = RUNNERS.find(([re]) => re.test(command));
        if (runner) await runner[1](s, command);
        else {
          const r = await sh(command, s.env);
          assert.equal(r.code, 0, `${block.section}: \`${command}\` exited ${r.code}: ${r.stderr}`);
          for (const [re, out] of EXPECT) if (re.test(command)) assert.match(r.stdout, out, `${block.section}: \`${command}\``);
        }
        ran++;
      }
    }
    assert.ok(ran >= 10, `ran ${ran} commands`);
    // A stale skip-list entry would hide nothing today but could hide a new command tomorrow.
    for (const [re, why] of NOT_RUN) assert.ok(blocks.some((b) => b.commands.some((c) => re.test(c))), `NOT_RUN entry ${re} (${why}) matches no README command`);
    // The README promises the dev data dir goes away when the server stops; the "real server"
    // runner stopped it with SIGTERM to `npm start`.
    const dir = /Data dir:\s+(\S+)/.exec(s.devOutput())?.[1];
    assert.ok(dir, 'the dev banner names its data dir');
    await waitFor('dev data dir removed', async () => (existsSync(dir) ? undefined : true), 30_000);
  });

  it('names in its prose only arca commands that exist, with flags they take', { timeout: 120_000 }, async () => {
    const commands = inlineCommands(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
    // The README names a dozen and more (`arca kms rotate`, `arca etcd scan|decrypt|rewrite`, …): an
    // extraction that finds few has stopped seeing them.
    assert.ok(commands.length >= 15, `found ${commands.length} inline commands: ${commands.map((c) => c.span).join('; ')}`);
    const paths = [...new Set(commands.map((c) => c.words.join(' ')))];
    const helps = new Map(paths.map((p, i) => [p, i]));
    const outputs = await mapLimit(paths, 4, (p) => arcaHelp(p === '' ? [] : p.split(' ')));
    const problems = commands.flatMap((c) => {
      const problem = helpProblem(c, outputs[helps.get(c.words.join(' '))!]!);
      return problem ? [`\`${c.span}\`: ${problem}`] : [];
    });
    assert.deepEqual(problems, [], `README inline commands that do not work as written:\n${problems.join('\n')}`);
  });
});
