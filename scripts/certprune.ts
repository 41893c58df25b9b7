/**
 * certprune: the admin's and the GPU hosts' command line.
 *
 *   certprune user add NAME [--password-file FILE]   add a researcher (password: FILE, stdin, or a prompt)
 *   certprune user password NAME [--password-file FILE]   set a new password (signs out their sessions)
 *   certprune user list                              list researchers
 *   certprune user remove NAME                       remove a researcher (their runs stay)
 *   certprune worker                                 run engines for a multi-host dashboard (REDIS_URL)
 *
 * Reads the same environment as the dashboard (CERTPRUNE_DATA_DIR, REDIS_URL, ...).
 * Run as `bin/certprune ...` or `npm run certprune -- ...`.
 */
import { readFileSync } from "node:fs";
import { ZodError } from "zod";
import { Accounts } from "@/server/auth/accounts";
import { runWorker } from "@/server/queue/worker";
import { readSettings } from "@/server/settings";
import { openDatabase } from "@/server/store/db";

const USAGE = `usage:
  certprune user add NAME [--password-file FILE]
  certprune user password NAME [--password-file FILE]
  certprune user list
  certprune user remove NAME
  certprune worker`;

class UsageError extends Error {}

function option(args: string[], name: string): string | null {
  const i = args.indexOf(name);
  if (i < 0) return null;
  const value = args[i + 1];
  if (!value) throw new UsageError(`${name} needs a value`);
  args.splice(i, 2);
  return value;
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let answer = "";
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          return resolve(answer);
        }
        if (ch === "\u0003") {
          done();
          return reject(new UsageError("cancelled"));
        }
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The new password: from --password-file, piped stdin, or typed twice at a prompt. */
async function newPassword(args: string[]): Promise<string> {
  const file = option(args, "--password-file");
  const firstLine = (text: string) => text.split(/\r?\n/)[0];
  if (file) return firstLine(readFileSync(file, "utf8"));
  if (!process.stdin.isTTY) return firstLine(await readStdin());
  const password = await promptHidden("Password: ");
  if ((await promptHidden("Password again: ")) !== password) throw new UsageError("the two passwords differ; nothing changed");
  return password;
}

async function user(args: string[]): Promise<void> {
  const [action, name, ...rest] = args;
  const db = openDatabase(readSettings().dataDir);
  const accounts = new Accounts(db);
  try {
    switch (action) {
      case "add": {
        if (!name) throw new UsageError("certprune user add NAME: give the researcher's name");
        const user = await accounts.add(name, await newPassword(rest));
        console.log(`added researcher ${user.name}`);
        return;
      }
      case "password": {
        if (!name || !accounts.find(name)) throw new UsageError(`no researcher named "${name ?? ""}"; see certprune user list`);
        await accounts.setPassword(accounts.find(name)!.name, await newPassword(rest));
        console.log(`new password set for ${name}; their sessions are signed out`);
        return;
      }
      case "list":
        for (const u of accounts.list()) console.log(`${u.name}\tsince ${new Date(u.createdAt).toISOString().slice(0, 10)}`);
        return;
      case "remove":
        if (!name) throw new UsageError("certprune user remove NAME: give the researcher's name");
        if (!accounts.remove(name)) throw new UsageError(`no researcher named "${name}"; see certprune user list`);
        console.log(`removed researcher ${name} (their runs stay)`);
        return;
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === "user") await user(args);
    else if (command === "worker") await runWorker(readSettings());
    else throw new UsageError(USAGE);
    return 0;
  } catch (error) {
    if (error instanceof ZodError) console.error(`certprune: ${error.issues.map((i) => i.message).join("; ")}`);
    else console.error(`certprune: ${(error as Error).message}`);
    return error instanceof UsageError || error instanceof ZodError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
