/**
 * A researcher's own words on a run: tags (a JSON array of short strings) and free-text
 * notes. Renaming a run changes its existing `label`. Both are searchable from the runs
 * table; neither changes the run's id (which is the hash of its settings).
 */
export const sql = `
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
`;
