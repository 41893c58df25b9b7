/**
 * Share links in SQLite. A token is 256 random bits (base64url), handed out once and
 * stored only as its SHA-256; looking a link up hashes what the visitor presents. The
 * public id (`shr_...`) names a link in its owner's list and for revoking; it opens nothing.
 */
import { createHash, randomBytes } from "node:crypto";
import type { DB } from "./db";

export type ShareKind = "run" | "comparison";

export interface Share {
  id: string;
  kind: ShareKind;
  /** The only runs the link may read. */
  runIds: string[];
  state: Record<string, unknown>;
  title: string;
  ownerId: number;
  createdAt: number;
  revokedAt: number | null;
  views: number;
  lastViewedAt: number | null;
}

interface ShareRow {
  id: string;
  kind: ShareKind;
  run_ids: string;
  state: string;
  title: string;
  owner_id: number;
  created_at: number;
  revoked_at: number | null;
  views: number;
  last_viewed_at: number | null;
}

/** What a well-formed token looks like: 32 bytes in base64url without padding. */
export const SHARE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const hashShareToken = (token: string) => createHash("sha256").update(token).digest("hex");

const toShare = (row: ShareRow): Share => ({
  id: row.id,
  kind: row.kind,
  runIds: JSON.parse(row.run_ids),
  state: JSON.parse(row.state),
  title: row.title,
  ownerId: row.owner_id,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  views: row.views,
  lastViewedAt: row.last_viewed_at,
});

export class ShareStore {
  constructor(private readonly db: DB) {}

  /** Creates a link; the returned token is the only copy there will ever be. */
  create(share: { kind: ShareKind; runIds: string[]; state: object; title: string; ownerId: number }): { share: Share; token: string } {
    const token = randomBytes(32).toString("base64url");
    const id = `shr_${randomBytes(8).toString("hex")}`;
    this.db
      .prepare(
        `INSERT INTO shares (id, token_hash, kind, run_ids, state, title, owner_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, hashShareToken(token), share.kind, JSON.stringify(share.runIds), JSON.stringify(share.state), share.title, share.ownerId, Date.now());
    return { share: this.get(id)!, token };
  }

  get(id: string): Share | null {
    const row = this.db.prepare(`SELECT * FROM shares WHERE id = ?`).get(id) as ShareRow | undefined;
    return row ? toShare(row) : null;
  }

  /** The link a token opens (revoked ones too: the caller tells the visitor why it is refused). */
  byToken(token: string): Share | null {
    if (!SHARE_TOKEN.test(token)) return null;
    const row = this.db.prepare(`SELECT * FROM shares WHERE token_hash = ?`).get(hashShareToken(token)) as ShareRow | undefined;
    return row ? toShare(row) : null;
  }

  ofOwner(ownerId: number): Share[] {
    return (this.db.prepare(`SELECT * FROM shares WHERE owner_id = ? ORDER BY created_at DESC, id`).all(ownerId) as ShareRow[]).map(toShare);
  }

  /** Marks a link revoked (once; the first time is kept). */
  revoke(id: string): void {
    this.db.prepare(`UPDATE shares SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(Date.now(), id);
  }

  recordView(id: string): void {
    this.db.prepare(`UPDATE shares SET views = views + 1, last_viewed_at = ? WHERE id = ?`).run(Date.now(), id);
  }
}
