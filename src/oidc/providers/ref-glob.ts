// pier's addition to PyPI's rules: a GitHub or GitLab publisher may name the git refs it accepts,
// as a glob over the full ref (GitHub's `ref` claim, GitLab's `ref_path`), e.g. only release tags
// with `refs/tags/v*`. `*` matches any run of characters except '/', `**` any run including '/';
// every other character matches itself (there are no `?` or `[...]` classes: git refs may not
// contain them anyway).
import { hasControlCharacter } from './core.js';

/** Why a ref pattern cannot be registered, or null. */
export function refPatternProblem(pattern: string): string | null {
  if (!pattern.startsWith('refs/'))
    return 'Ref pattern must start with refs/ (for example refs/tags/v*)';
  if (/\s/.test(pattern) || hasControlCharacter(pattern))
    return 'Ref pattern must not contain whitespace or control characters';
  return null;
}

export function refPatternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch !== '*') {
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    let run = 1;
    while (pattern[i + run] === '*') run++;
    source += run >= 2 ? '.*' : '[^/]*';
    i += run - 1;
  }
  return new RegExp(`^${source}$`, 's');
}

/**
 * Whether `ref` matches the pattern ('' = any ref). A ref with a control character (a newline,
 * NUL, DEL, a C1 control) matches no pattern, not even "any": git refuses such refs, so a token
 * carrying one is not describing a real ref.
 */
export function refMatches(pattern: string, ref: string): boolean {
  if (hasControlCharacter(ref)) return false;
  return pattern === '' || refPatternToRegExp(pattern).test(ref);
}
