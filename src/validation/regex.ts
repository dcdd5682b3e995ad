/**
 * Checks a regex the way Istio does (length cap, then compile). Istio compiles with Go's RE2; JavaScript's RegExp
 * is a superset in some places (lookaround, backreferences are accepted here but rejected by RE2) and stricter in
 * others (RE2's `(?P<name>...)` and `\z` are errors in JS). The RE2-only constructs are translated before
 * compiling and the JS-only ones rejected, so the verdict matches Envoy's for the regexes people write.
 */
export function regexError(re: string): string | undefined {
  if (re === '') return 'regex string match should not be empty';
  if (re.length > 1024) return 'regex is too large, max length allowed is 1024';
  if (/\(\?<?[=!]/.test(re)) return `regex "${re}" uses lookaround, which RE2 (Istio's regex engine) does not support`;
  if (/\\[1-9]/.test(re))
    return `regex "${re}" uses a backreference, which RE2 (Istio's regex engine) does not support`;
  const translated = re
    .replace(/\(\?P</g, '(?<')
    .replace(/\\z/g, '$')
    .replace(/^\(\?([imsU]+)\)/, '');
  try {
    new RegExp(translated, 'u');
    return undefined;
  } catch (e) {
    return `invalid regex "${re}": ${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e)}; Istio uses RE2 syntax (https://github.com/google/re2/wiki/Syntax)`;
  }
}
