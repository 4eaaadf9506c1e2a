/**
 * The YAML that Flink configuration files use, and no more: `key: value` lines (Flink 1.x `flink-conf.yaml`) and
 * nested maps by indentation whose keys are joined with dots (Flink 2.x `config.yaml`: `rest:` / `  port: 8081` is
 * `rest.port`), `#` comments, single- or double-quoted scalars and flow lists `[a, b]` (kept as their text, as Flink
 * keeps list values). Anchors, multi-line scalars, block lists and documents are refused with the line number.
 *
 * Why our own: the subset is about a hundred lines, a library would be a new runtime dependency for every user of the
 * package, and errors here can name the file and line of a bad entry.
 */

/** One `key: value` of a configuration file, with where it came from. */
export interface YamlEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** A configuration file that could not be read. */
export class ConfigurationFileException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationFileException';
  }
}

/** Parses `text` into flat dotted keys. `source` names the file in errors. */
export function parseFlinkYaml(text: string, source = 'configuration'): YamlEntry[] {
  const entries: YamlEntry[] = [];
  /** Open parent maps: their indentation and key. */
  const parents: { indent: number; key: string; childIndent?: number }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const fail = (what: string): never => {
      throw new ConfigurationFileException(`${source}:${lineNumber}: ${what}`);
    };
    const line = stripComment(raw, fail);
    if (line.trim() === '') return;
    if (/^\t| \t/.test(line.match(/^\s*/)?.[0] ?? '')) fail('tabs are not allowed for indentation');
    const indent = line.length - line.trimStart().length;
    const content = line.trim();
    if (content === '---' || content === '...') fail('multiple YAML documents are not supported');
    if (content.startsWith('- ')) fail('block lists are not supported; write the list as [a, b] or a;b');
    const colon = findKeySeparator(content);
    if (colon < 0) fail(`expected "key: value", got ${JSON.stringify(content)}`);
    const key = unquote(content.slice(0, colon).trim(), fail);
    if (key === '') fail('empty key');
    const rest = content.slice(colon + 1).trim();

    while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop();
    const parent = parents[parents.length - 1];
    if (parent === undefined) {
      if (indent > 0) fail('unexpected indentation');
    } else {
      parent.childIndent ??= indent;
      if (indent !== parent.childIndent) fail('inconsistent indentation');
    }
    const fullKey = [...parents.map((parent) => parent.key), key].join('.');
    if (rest === '') {
      // A map header (its children follow, more indented) or an empty value.
      const next = lines.slice(index + 1).find((candidate) => stripComment(candidate, fail).trim() !== '');
      const nextIndent = next === undefined ? -1 : next.length - next.trimStart().length;
      if (nextIndent > indent) {
        parents.push({ indent, key });
        return;
      }
      entries.push({ key: fullKey, value: '', line: lineNumber });
      return;
    }
    if (/^[&*!|>]/.test(rest)) fail('anchors, aliases, tags and block scalars are not supported');
    entries.push({ key: fullKey, value: scalar(rest, fail), line: lineNumber });
  });
  return entries;
}

/** Removes a `#` comment (one that starts the line or follows whitespace, outside quotes). */
function stripComment(line: string, fail: (what: string) => never): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== null) {
      if (char === '\\' && quote === '"') i++;
      else if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      if (i === 0 || /[\s:[,]/.test(line[i - 1]!)) quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  if (quote !== null) fail('unterminated quoted string');
  return line;
}

/** The index of the `:` that ends the key (followed by a space or the end), outside quotes. */
function findKeySeparator(content: string): number {
  let quote: string | null = null;
  for (let i = 0; i < content.length; i++) {
    const char = content[i]!;
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if ((char === '"' || char === "'") && i === 0) {
      quote = char;
    } else if (char === ':' && (i + 1 === content.length || content[i + 1] === ' ')) {
      return i;
    }
  }
  return -1;
}

function scalar(text: string, fail: (what: string) => never): string {
  if (text.startsWith('"') || text.startsWith("'")) return unquote(text, fail);
  if (text.startsWith('{')) fail('flow maps are not supported; use nested keys');
  return text;
}

function unquote(text: string, fail: (what: string) => never): string {
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail(`unterminated quoted string ${text}`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) fail(`unterminated quoted string ${text}`);
    try {
      return JSON.parse(text) as string;
    } catch {
      return fail(`invalid double-quoted string ${text}`);
    }
  }
  return text;
}
