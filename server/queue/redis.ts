/** Redis connections for BullMQ and the events stream (ioredis; commands wait out reconnects). */
import IORedis, { type Redis } from "ioredis";

export function connectRedis(url: string, name: string): Redis {
  const redis = new IORedis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
  // A dropped connection is retried by ioredis; say so once per error instead of crashing.
  let lastMessage = "";
  redis.on("error", (error: Error) => {
    if (error.message === lastMessage) return;
    lastMessage = error.message;
    console.error(`certprune: redis (${url}, ${name}): ${error.message}`);
  });
  redis.on("ready", () => (lastMessage = ""));
  return redis;
}
