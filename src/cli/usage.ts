import { Argument, Command, Help, InvalidArgumentError, Option, type ErrorOptions } from 'commander';
import stringWidth from 'string-width';

import { localeFromLang, translate, type Locale, type MessageCode } from '../i18n/messages.js';

/**
 * Usage errors and help of the command line in the user's language.
 * Commander (14.x) words its usage errors in English and passes only that text
 * and an error code to `Command.error()`, so `CliCommand.error()` reads the bad
 * token back out of the English text and rewrites the message from the catalog.
 */

/** Locale of command-line messages: LC_ALL, then LC_MESSAGES, then LANG, zh-CN unless one names English. */
export function cliLocale(environment: NodeJS.ProcessEnv = process.env): Locale {
  return localeFromLang(environment.LC_ALL || environment.LC_MESSAGES || environment.LANG);
}

/** Returns the error that a custom option or argument parser throws for a bad value, with `reason` in the CLI's locale. */
export function invalidArgument(
  code: MessageCode,
  parameters: Record<string, unknown>,
): InvalidArgumentError {
  return new InvalidArgumentError(translate(code, parameters, cliLocale()));
}

/** Bilingual section titles of the help, keyed by the titles commander passes to `styleTitle`. */
const HELP_TITLES: Record<string, string> = {
  'Usage:': '用法 / Usage:',
  'Arguments:': '参数 / Arguments:',
  'Options:': '选项 / Options:',
  'Commands:': '命令 / Commands:',
  'Global Options:': '全局选项 / Global Options:',
};

/** A commander Command whose subcommands are CliCommands too and whose usage errors follow the CLI's locale. */
export class CliCommand extends Command {
  override createCommand(name?: string): Command {
    return new CliCommand(name);
  }

  override error(message: string, errorOptions?: ErrorOptions): never {
    const localized = localizeUsageError(this, message, errorOptions?.code, cliLocale());
    return super.error(localized, errorOptions);
  }
}

/**
 * Creates the root command: usage errors exit through a thrown CommanderError
 * (main.ts turns it into exit status 2), and the help is bilingual with
 * columns measured in terminal cells, so Chinese text wraps at the right width.
 */
export function createRootCommand(name: string, description: string): CliCommand {
  const program = new CliCommand(name);
  program
    .description(description)
    .exitOverride()
    .helpOption('-h, --help', '显示帮助 / display help')
    .helpCommand('help [command]', '显示命令的帮助 / display help for a command')
    .configureHelp({
      displayWidth: (text: string) => stringWidth(text),
      styleTitle: (title: string) => HELP_TITLES[title] ?? title,
      optionDescription(option: Option) {
        return bilingualDefault(Help.prototype.optionDescription.call(this, option));
      },
      argumentDescription(argument: Argument) {
        return bilingualDefault(Help.prototype.argumentDescription.call(this, argument));
      },
    });
  return program;
}

function bilingualDefault(description: string): string {
  return description.replace('(default: ', '(默认 / default: ');
}

/** Returns the words that name `command` in a `--help` hint, e.g. `cloud-platform task run`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent)
    names.unshift(current.name());
  return names.join(' ');
}

interface UsageMessage {
  code: MessageCode;
  parameters: Record<string, unknown>;
  /** Commander's "Did you mean …?" candidates, joined with commas. */
  suggestion?: string;
}

/** `option '--x <v>'` or `environment variable 'X'` in a conflictingOption message, worded for the locale. */
function describeOptionSource(kind: string, name: string, locale: Locale): string {
  if (kind === 'environment variable') return translate('cli_usage_environment_variable', { name }, locale);
  return name;
}

/**
 * Reads the parameters of a commander 14 usage error out of its English text.
 * Returns undefined when the text does not have the expected form, so that
 * the caller keeps commander's own message.
 */
function parseUsageError(
  command: Command,
  message: string,
  code: string | undefined,
  locale: Locale,
): UsageMessage | undefined {
  const [firstLine = '', ...rest] = message.split('\n');
  const suggestion = /^\(Did you mean (?:one of )?(.+)\?\)$/.exec(rest.join('\n'))?.[1];
  let match: RegExpExecArray | null;

  switch (code) {
    case 'commander.unknownOption':
      match = /^error: unknown option '(.*)'$/.exec(firstLine);
      return match
        ? { code: 'cli_usage_unknown_option', parameters: { option: match[1] }, suggestion }
        : undefined;
    case 'commander.unknownCommand':
      match = /^error: unknown command '(.*)'$/.exec(firstLine);
      return match
        ? { code: 'cli_usage_unknown_command', parameters: { command: match[1] }, suggestion }
        : undefined;
    case 'commander.missingArgument':
      match = /^error: missing required argument '(.*)'$/.exec(firstLine);
      return match ? { code: 'cli_usage_missing_argument', parameters: { argument: match[1] } } : undefined;
    case 'commander.optionMissingArgument':
      match = /^error: option '(.*)' argument missing$/.exec(firstLine);
      return match ? { code: 'cli_usage_option_missing_value', parameters: { option: match[1] } } : undefined;
    case 'commander.missingMandatoryOptionValue':
      match = /^error: required option '(.*)' not specified$/.exec(firstLine);
      return match
        ? { code: 'cli_usage_missing_required_option', parameters: { option: match[1] } }
        : undefined;
    case 'commander.conflictingOption':
      match =
        /^error: (option|environment variable) '(.*)' cannot be used with (option|environment variable) '(.*)'$/.exec(
          firstLine,
        );
      return match
        ? {
            code: 'cli_usage_conflicting_options',
            parameters: {
              first: describeOptionSource(match[1]!, match[2]!, locale),
              second: describeOptionSource(match[3]!, match[4]!, locale),
            },
          }
        : undefined;
    case 'commander.excessArguments': {
      const expected = command.registeredArguments.length;
      const extra = command.args.slice(expected);
      if (extra.length === 0) return undefined;
      return {
        code: expected === 0 ? 'cli_usage_no_arguments' : 'cli_usage_excess_arguments',
        parameters: { arguments: extra.map((argument) => `"${argument}"`).join(' '), expected },
      };
    }
    case 'commander.invalidArgument':
      return parseInvalidArgument(message, locale);
    default:
      return undefined;
  }
}

/** Reads an invalid option, environment variable or argument value, with the parser's reason. */
function parseInvalidArgument(message: string, locale: Locale): UsageMessage | undefined {
  const forms: [RegExp, MessageCode, string[]][] = [
    [
      /^error: option '(.*?)' argument '(.*)' is invalid\. (.*)$/s,
      'cli_usage_invalid_option_value',
      ['option', 'value'],
    ],
    [
      /^error: option '(.*?)' value '(.*)' from env '(.*?)' is invalid\. (.*)$/s,
      'cli_usage_invalid_environment_value',
      ['option', 'value', 'variable'],
    ],
    [
      /^error: command-argument value '(.*)' is invalid for argument '(.*?)'\. (.*)$/s,
      'cli_usage_invalid_argument_value',
      ['value', 'argument'],
    ],
  ];
  for (const [pattern, code, names] of forms) {
    const match = pattern.exec(message);
    if (!match) continue;
    const parameters: Record<string, unknown> = {};
    names.forEach((name, index) => (parameters[name] = match[index + 1]));
    parameters.reason = localizeReason(match[names.length + 1]!, locale);
    return { code, parameters };
  }
  return undefined;
}

/** Rewrites commander's own "Allowed choices are …" reason; reasons of this project's parsers are already localized. */
function localizeReason(reason: string, locale: Locale): string {
  const choices = /^Allowed choices are (.*)\.$/.exec(reason)?.[1];
  return choices === undefined ? reason : translate('cli_usage_allowed_choices', { choices }, locale);
}

/**
 * Returns the message of a usage error in `locale`: what is wrong, with the
 * bad token, commander's suggestion if any, and the `--help` command to run.
 */
export function localizeUsageError(
  command: Command,
  message: string,
  code: string | undefined,
  locale: Locale,
): string {
  const parsed = parseUsageError(command, message, code, locale);
  const problem = parsed
    ? translate(parsed.code, parsed.parameters, locale)
    : message.replace(/^error: /, '');
  const lines = [`错误 / error: ${problem}`];
  if (parsed?.suggestion)
    lines.push(translate('cli_usage_did_you_mean', { suggestion: parsed.suggestion }, locale));
  lines.push(translate('cli_usage_help_hint', { command: commandPath(command) }, locale));
  return lines.join('\n');
}
