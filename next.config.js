/** @type {import('next').NextConfig} */
const nextConfig = {
  // Several builds can live side by side (e.g. one per developer worktree): CERTPRUNE_NEXT_DIR.
  distDir: process.env.CERTPRUNE_NEXT_DIR || ".next",
  // Native and worker-spawning packages stay plain Node requires on the server.
  serverExternalPackages: ["better-sqlite3", "onnxruntime-node", "bullmq", "ioredis"],
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
