import { CommanderError, Option } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createRootCommand, invalidArgument } from './usage.js';

/** Builds a small program with every kind of option and argument that commander checks. */
function buildProgram(output: { errors: string }) {
  const program = createRootCommand('demo-cli', '演示 / demo');
  program.configureOutput({
    writeErr: (text) => (output.errors += text),
    writeOut: () => undefined,
  });
  program
    .command('add')
    .argument('<code>', '编码 / code')
    .requiredOption('--name <name>', '名称 / name')
    .option('--json', 'JSON')
    .option('--limit <count>', '条数 / count', (value: string) => {
      if (!/^\d+$/.test(value)) throw invalidArgument('cli_usage_whole_number', { min: 1, max: 10 });
      return Number(value);
    })
    .addOption(new Option('--mode <mode>', '模式 / mode').choices(['fast', 'slow']))
    .addOption(new Option('--from <date>', '起始 / from').conflicts('all'))
    .addOption(new Option('--all', '全部 / all').env('DEMO_ALL'))
    .action(() => undefined);
  program.command('list').action(() => undefined);
  return program;
}

/** Parses `args` as typed by a user and returns commander's error code and what it printed on stderr. */
async function usageError(
  args: string[],
  lang: string,
): Promise<{ code: string; exitCode: number; text: string }> {
  vi.stubEnv('LANG', lang);
  vi.stubEnv('LC_ALL', '');
  vi.stubEnv('LC_MESSAGES', '');
  const output = { errors: '' };
  try {
    await buildProgram(output).parseAsync(args, { from: 'user' });
  } catch (error) {
    expect(error).toBeInstanceOf(CommanderError);
    const commanderError = error as CommanderError;
    return { code: commanderError.code, exitCode: commanderError.exitCode, text: output.errors };
  }
  throw new Error(`expected ${args.join(' ')} to fail`);
}

describe('usage errors', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    [
      ['add', 'x', '--name', 'n', '--jsn'],
      'commander.unknownOption',
      '错误 / error: 未知选项 "--jsn"\n你是否想输入 --json？\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: unknown option "--jsn"\n(Did you mean --json?)\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['lst'],
      'commander.unknownCommand',
      '错误 / error: 未知命令 "lst"\n你是否想输入 list？\n运行 demo-cli --help 查看用法\n',
      '错误 / error: unknown command "lst"\n(Did you mean list?)\nrun demo-cli --help to see the usage\n',
    ],
    [
      ['add', '--name', 'n'],
      'commander.missingArgument',
      '错误 / error: 缺少参数 <code>\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: missing argument <code>\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['add', 'x', '--name'],
      'commander.optionMissingArgument',
      '错误 / error: 选项 --name <name> 缺少值\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: option --name <name> needs a value\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['add', 'x'],
      'commander.missingMandatoryOptionValue',
      '错误 / error: 缺少必需的选项 --name <name>\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: missing required option --name <name>\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['add', 'x', '--name', 'n', '--limit', 'ten'],
      'commander.invalidArgument',
      '错误 / error: 选项 --limit <count> 的值 "ten" 无效：应为 1 到 10 之间的整数\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: invalid value "ten" for option --limit <count>: expected a whole number from 1 to 10\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['add', 'x', '--name', 'n', '--mode', 'quick'],
      'commander.invalidArgument',
      '错误 / error: 选项 --mode <mode> 的值 "quick" 无效：应为 fast, slow 之一\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: invalid value "quick" for option --mode <mode>: expected one of fast, slow\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['add', 'x', 'y', '--name', 'n'],
      'commander.excessArguments',
      '错误 / error: 多余的参数 "y"：该命令最多接受 1 个参数；含空格的值请加引号\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: unexpected argument(s) "y": this command takes at most 1; quote a value that contains spaces\nrun demo-cli add --help to see the usage\n',
    ],
    [
      ['list', 'extra', 'words'],
      'commander.excessArguments',
      '错误 / error: 多余的参数 "extra" "words"：该命令不接受参数\n运行 demo-cli list --help 查看用法\n',
      '错误 / error: unexpected argument(s) "extra" "words": this command takes none\nrun demo-cli list --help to see the usage\n',
    ],
    [
      ['add', 'x', '--name', 'n', '--from', 'd', '--all'],
      'commander.conflictingOption',
      '错误 / error: --from <date> 不能与 --all 同时使用；请只保留其中一个\n运行 demo-cli add --help 查看用法\n',
      '错误 / error: --from <date> cannot be used with --all; keep only one of them\nrun demo-cli add --help to see the usage\n',
    ],
  ])('reports %j', async (args, code, chinese, english) => {
    const inChinese = await usageError(args, 'zh_CN.UTF-8');
    const inEnglish = await usageError(args, 'en_US.UTF-8');

    expect(inChinese.code).toBe(code);
    expect(inChinese.exitCode).not.toBe(0);
    expect(inChinese.text).toBe(chinese);
    expect(inEnglish.code).toBe(code);
    expect(inEnglish.text).toBe(english);
  });

  it('names an environment variable that conflicts', async () => {
    vi.stubEnv('DEMO_ALL', '1');

    const result = await usageError(['add', 'x', '--name', 'n', '--from', 'd'], 'zh_CN.UTF-8');

    expect(result.code).toBe('commander.conflictingOption');
    expect(result.text).toContain('错误 / error: --from <date> 不能与 环境变量 DEMO_ALL 同时使用');
  });

  it('writes Chinese first in the help', () => {
    const program = buildProgram({ errors: '' });

    const help = program.commands.find((command) => command.name() === 'add')!.helpInformation();

    expect(help).toContain('用法 / Usage: demo-cli add [options] <code>');
    expect(help).toContain('参数 / Arguments:');
    expect(help).toContain('选项 / Options:');
    expect(help).toContain('-h, --help       显示帮助 / display help');
  });
});
