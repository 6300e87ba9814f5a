// The rule for removing a user: no project may be left without an owner. Pure, over the roles
// held in the projects the user has a role in.

export interface HeldRole {
  projectId: number;
  project: string;
  userId: number;
  role: string;
}

/** The projects (by name, sorted) whose only owner is `userId`: removing that user is refused. */
export function projectsOnlyOwnedBy(roles: readonly HeldRole[], userId: number): string[] {
  const owners = new Map<number, { project: string; others: number; mine: boolean }>();
  for (const r of roles) {
    if (r.role !== 'owner') continue;
    const o = owners.get(r.projectId) ?? { project: r.project, others: 0, mine: false };
    if (r.userId === userId) o.mine = true;
    else o.others += 1;
    owners.set(r.projectId, o);
  }
  return [...owners.values()]
    .filter((o) => o.mine && o.others === 0)
    .map((o) => o.project)
    .sort();
}

/** The one-line refusal for removing a user who is the last owner of `projects`. */
export function lastOwnerRefusal(username: string, projects: readonly string[]): string {
  const list = projects.map((p) => `'${p}'`).join(', ');
  return `'${username}' is the last owner of ${projects.length === 1 ? 'project' : 'projects'} ${list}: give ${projects.length === 1 ? 'it' : 'each'} another owner first`;
}
