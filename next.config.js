/** @type {import('next').NextConfig} */
const nextConfig = {
  // Several builds can live side by side (e.g. one per developer worktree): CERTPRUNE_NEXT_DIR.
  distDir: process.env.CERTPRUNE_NEXT_DIR || ".next",
  // Native and worker-spawning packages stay plain Node requires on the server.
  serverExternalPackages: ["better-sqlite3", "onnxruntime-node", "bullmq", "ioredis"],
  poweredByHeader: false,
  reactStrictMode: true,
  // forbidden() in the share pages: a revoked link answers HTTP 403 (server/http/sharePage.ts).
  experimental: { authInterrupts: true },
};

module.exports = nextConfig;
