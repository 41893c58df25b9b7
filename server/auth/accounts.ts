/**
 * Researchers' accounts and sessions in SQLite. A session id is 256 random bits, given
 * to the browser once (in an http-only cookie) and stored only as its SHA-256 hash, so
 * a copy of the database signs nobody in.
 */
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { DB } from "../store/db";
import { decoyHash, hashPassword, verifyPassword } from "./password";
import { SignInThrottle } from "./throttle";

export const SESSION_DAYS = 30;
const SESSION_MS = SESSION_DAYS * 24 * 3600 * 1000;

export const UserName = z
  .string()
  .trim()
  .min(1, "Enter a name")
  .max(64, "Names are at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, '.', '_' or '-' (starting with a letter or digit)");
export const NewPassword = z
  .string()
  .min(8, "Use at least 8 characters")
  .max(1024, "Passwords are at most 1024 characters");
/** What a sign-in accepts: any password up to the length limit (old ones may be shorter). */
export const AnyPassword = z.string().min(1, "Enter your password").max(1024, "Passwords are at most 1024 characters");

export interface User {
  id: number;
  name: string;
  createdAt: number;
}

interface UserRow {
  id: number;
  name: string;
  password_hash: string;
  created_at: number;
}

const toUser = (row: UserRow): User => ({ id: row.id, name: row.name, createdAt: row.created_at });
const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/*
 * Errors carry a `code` to test for, not only a class: Next.js may evaluate this module
 * once per route bundle while the services (and so the Accounts that throws) are shared
 * on globalThis, so `instanceof` against another bundle's copy of the class is false.
 */
export class UserExistsError extends Error {
  readonly code = "USER_EXISTS";
  constructor(name: string) {
    super(`a researcher named "${name}" already exists`);
    this.name = "UserExistsError";
  }
}

export class Accounts {
  /** Failed sign-ins per name (see SignInThrottle). */
  readonly signIns = new SignInThrottle();

  constructor(private readonly db: DB) {}

  count(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM users`).get() as { n: number }).n;
  }

  list(): User[] {
    return (this.db.prepare(`SELECT * FROM users ORDER BY name`).all() as UserRow[]).map(toUser);
  }

  find(name: string): User | null {
    const row = this.db.prepare(`SELECT * FROM users WHERE name = ?`).get(name) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  /** Adds a researcher. `onlyIfNone`: refuse when any account exists (first-run setup). */
  async add(name: string, password: string, options: { onlyIfNone?: boolean } = {}): Promise<User> {
    const validName = UserName.parse(name);
    const hash = await hashPassword(NewPassword.parse(password));
    // Check and insert in one write transaction: two setup requests at once create one account.
    const insert = this.db.transaction(() => {
      if (options.onlyIfNone && this.count() > 0) return null;
      if (this.find(validName)) throw new UserExistsError(validName);
      const info = this.db
        .prepare(`INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)`)
        .run(validName, hash, Date.now());
      return Number(info.lastInsertRowid);
    });
    const id = insert.immediate();
    if (id === null) throw new SetupDoneError();
    return toUser(this.db.prepare(`SELECT * FROM users WHERE id = ?`).get(id) as UserRow);
  }

  async setPassword(name: string, password: string): Promise<void> {
    const hash = await hashPassword(NewPassword.parse(password));
    const info = this.db.prepare(`UPDATE users SET password_hash = ? WHERE name = ?`).run(hash, name);
    if (info.changes === 0) throw new Error(`no researcher named "${name}"`);
    // A new password signs out every existing session.
    this.db.prepare(`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)`).run(name);
  }

  remove(name: string): boolean {
    return this.db.prepare(`DELETE FROM users WHERE name = ?`).run(name).changes > 0;
  }

  /** The user when name and password match, else null (in about the same time either way). */
  async authenticate(name: string, password: string): Promise<User | null> {
    const row = this.db.prepare(`SELECT * FROM users WHERE name = ?`).get(name.trim()) as UserRow | undefined;
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    return row && ok ? toUser(row) : null;
  }

  /** Starts a session; returns the id to put in the cookie (never stored as is). */
  createSession(userId: number): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    const expiresAt = now + SESSION_MS;
    this.db
      .prepare(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`)
      .run(tokenHash(token), userId, now, expiresAt);
    return { token, expiresAt };
  }

  /** The signed-in user of a session id, or null when unknown, expired or revoked. */
  userForSession(token: string | null | undefined): User | null {
    if (!token || token.length > 128) return null;
    const row = this.db
      .prepare(
        `SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
         WHERE sessions.token_hash = ? AND sessions.expires_at > ?`,
      )
      .get(tokenHash(token), Date.now()) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  endSession(token: string): void {
    this.db.prepare(`DELETE FROM sessions WHERE token_hash = ?`).run(tokenHash(token));
  }

  endSessionsOf(name: string): number {
    return this.db.prepare(`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)`).run(name).changes;
  }

  pruneExpiredSessions(): void {
    this.db.prepare(`DELETE FROM sessions WHERE expires_at <= ?`).run(Date.now());
  }
}

export class SetupDoneError extends Error {
  readonly code = "SETUP_DONE";
  constructor() {
    super("setup is done: a researcher account exists already. Sign in, or ask an admin to run `certprune user add NAME`");
    this.name = "SetupDoneError";
  }
}

/** True for a SetupDoneError from any copy of this module. */
export const isSetupDone = (error: unknown): error is SetupDoneError => (error as { code?: unknown } | null)?.code === "SETUP_DONE";
