// Who made each upload, as the project page tells its owners: the trusted publisher (from the
// file's provenance) or the user and the API token (name and id) that uploaded it.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isProvenance } from './provenance.js';

export interface UploaderFacts {
  userName: string | null;
  tokenId: number | null;
  tokenName: string | null;
  provenanceJson: string | null;
}

/** One line saying who uploaded a file. */
export function describeUploader(f: UploaderFacts): string {
  if (f.provenanceJson !== null) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(f.provenanceJson);
    } catch {
      parsed = null;
    }
    if (isProvenance(parsed)) return `trusted publisher ${parsed.publisher.description}`;
  }
  const who = f.userName ?? 'the operator';
  if (f.tokenId === null) return `${who}, with a password`;
  return `${who}, with token “${f.tokenName ?? ''}” (#${f.tokenId})`;
}

/** The uploader of each file of a project, by filename. */
export async function uploadersOf(
  db: Kysely<Database>,
  projectId: number,
): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('files')
    .leftJoin('users', 'users.id', 'files.uploader_user_id')
    .leftJoin('tokens', 'tokens.id', 'files.uploader_token_id')
    .select([
      'files.filename as filename',
      'users.username as userName',
      'files.uploader_token_id as tokenId',
      'tokens.name as tokenName',
      'files.provenance_json as provenanceJson',
    ])
    .where('files.project_id', '=', projectId)
    .execute();
  return new Map(rows.map((r) => [r.filename, describeUploader(r)]));
}
