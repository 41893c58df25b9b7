/**
 * Events by run and type: the compare page reads only a run's round_finished events (a
 * few dozen among thousands of per-sample and per-epoch ones); without this index every
 * comparison scanned every event of every compared run.
 */
export const sql = `
CREATE INDEX events_run_type ON events (run_id, type, id);
`;
