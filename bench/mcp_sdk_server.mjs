// SPDX-License-Identifier: AGPL-3.0-or-later
// The comparison peer of bench/mcp.c: an MCP server written with the official
// TypeScript SDK (@modelcontextprotocol/sdk, loaded from $MCP_SDK_DIR) that
// exposes the same echo tool over Streamable HTTP on 127.0.0.1, stateful
// sessions (one transport per Mcp-Session-Id, as in the SDK's examples) and
// JSON responses. Prints "listening on http://127.0.0.1:PORT/mcp".
import http from "node:http";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";

const sdk = process.env.MCP_SDK_DIR;
const load = (p) => import(pathToFileURL(`${sdk}/dist/esm/${p}`).href);
const { Server } = await load("server/index.js");
const { StreamableHTTPServerTransport } = await load("server/streamableHttp.js");
const { ListToolsRequestSchema, CallToolRequestSchema } = await load("types.js");

const transports = new Map();

function newServer() {
  const s = new Server({ name: "sdk-echo", version: "1.0.0" }, { capabilities: { tools: {} } });
  s.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{
      name: "echo", description: "Returns its text.",
      inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    }],
  }));
  s.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: "text", text: String(req.params.arguments?.text ?? "") }],
  }));
  return s;
}

const srv = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
  const sid = req.headers["mcp-session-id"];
  let t = sid ? transports.get(sid) : undefined;
  if (!t) {
    t = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => transports.set(id, t),
    });
    await newServer().connect(t);
  }
  await t.handleRequest(req, res, body);
});
srv.keepAliveTimeout = 60000;
srv.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${srv.address().port}/mcp`);
});
