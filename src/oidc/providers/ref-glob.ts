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

/** Two optional exact fields ('' = any) can both pass for one claim value. */
export function optionalOverlap(
  a: string,
  b: string,
  fold: (s: string) => string = (s) => s,
): boolean {
  return a === '' || b === '' || fold(a) === fold(b);
}

function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star < 0 ? pattern : pattern.slice(0, star);
}

function literalSuffix(pattern: string): string {
  const star = pattern.lastIndexOf('*');
  return star < 0 ? pattern : pattern.slice(star + 1);
}

/**
 * Whether some git ref matches both ref patterns ('' = any ref). Exact when either pattern has
 * no wildcard; otherwise disjoint only when their fixed beginnings or ends contradict each other.
 */
export function refPatternsOverlap(a: string, b: string): boolean {
  if (a === '' || b === '') return true;
  if (!a.includes('*')) return refMatches(b, a);
  if (!b.includes('*')) return refMatches(a, b);
  const [pa, pb] = [literalPrefix(a), literalPrefix(b)];
  if (!pa.startsWith(pb) && !pb.startsWith(pa)) return false;
  const [sa, sb] = [literalSuffix(a), literalSuffix(b)];
  if (!sa.endsWith(sb) && !sb.endsWith(sa)) return false;
  return true;
}

/**
 * Why a branch-name pattern cannot be registered, or null: for platforms whose tokens name the
 * branch alone (Bitbucket's `branchName`: `main`, `release/1.x`), the same glob over the name.
 */
export function branchPatternProblem(pattern: string): string | null {
  if (pattern.startsWith('refs/'))
    return 'Give a branch name or pattern such as main or release/*, not a ref';
  if (/\s/.test(pattern) || hasControlCharacter(pattern))
    return 'Branch patterns must not contain whitespace or control characters';
  if (pattern.startsWith('/') || pattern.endsWith('/') || pattern.includes('//'))
    return 'Invalid branch pattern: no empty path segment';
  return null;
}

/**
 * What a pipeline's trigger names for a ref pattern: `refs/tags/v*` → tags "v*",
 * `refs/heads/main` → branches "main" (each quoted for YAML); tags 'v*' for any other pattern.
 */
export function triggerOfRef(ref: string): { kind: 'tags' | 'branches'; quoted: string } {
  const tag = /^refs\/tags\/(.+)$/.exec(ref);
  if (tag) return { kind: 'tags', quoted: JSON.stringify(tag[1]) };
  const branch = /^refs\/heads\/(.+)$/.exec(ref);
  if (branch) return { kind: 'branches', quoted: JSON.stringify(branch[1]) };
  return { kind: 'tags', quoted: "'v*'" };
}
