/**
 * Splits one string into a command and its arguments as a POSIX shell would for plain words:
 * whitespace separates, single quotes keep everything, double quotes keep everything but
 * `\"` and `\\`, a backslash outside quotes escapes the next character. Nothing is expanded
 * (no variables, globs or operators): the words run as written, without a shell.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let at = 0; at < line.length; at++) {
    const char = line[at]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && (line[at + 1] === '"' || line[at + 1] === '\\')) word += line[++at];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\') {
      if (at + 1 >= line.length) throw new Error('the command ends with a lone backslash');
      word += line[++at];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new Error(`the command has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}
