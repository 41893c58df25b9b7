/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and worker-spawning packages stay plain Node requires on the server.
  serverExternalPackages: ["better-sqlite3", "onnxruntime-node", "bullmq"],
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
