// @tus/server 2.4.5 with its FileStore, on loopback, for chunkup's tus tests.
// Usage: node tus_server.mjs <port> <data dir> [expiration ms]
// Uploads are stored as <data dir>/<id> (the bytes) and <id>.json (length, offset, metadata).
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";

// @tus/server 2.4.5 on Node 20 can throw from undici after a GET of a finished upload
// (ERR_INVALID_STATE: ReadableStream is already closed), which would end the process: log it instead.
process.on("uncaughtException", (error) => console.error("uncaught:", error));

const [port, directory, expiration] = process.argv.slice(2);
const options = { directory };
if (expiration) options.expirationPeriodInMilliseconds = Number(expiration);
const server = new Server({ path: "/files", datastore: new FileStore(options) });
server.listen({ host: "127.0.0.1", port: Number(port) }, () => console.log(`listening on ${port}`));
process.on("SIGTERM", () => process.exit(0));
