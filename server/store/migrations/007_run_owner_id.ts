/**
 * A run belongs to its owner's account id, not to a name: a researcher removed and a new
 * one added under the same name must not inherit the old runs. Existing runs are given the
 * id of the account of their owner's name only if that account is older than the run; a
 * run whose owner left before this migration keeps a name and no id, and nobody may change
 * it (a run from before accounts, with no owner at all, anyone may, as before).
 */
export const sql = `
ALTER TABLE runs ADD COLUMN owner_id INTEGER;
UPDATE runs SET owner_id = (
  SELECT users.id FROM users WHERE users.name = runs.owner AND users.created_at <= runs.created_at
) WHERE owner IS NOT NULL;
CREATE INDEX runs_owner_id ON runs (owner_id);
`;
