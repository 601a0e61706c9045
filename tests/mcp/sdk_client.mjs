// SPDX-License-Identifier: AGPL-3.0-or-later
// Interop peer: a client written with the official TypeScript SDK
// (@modelcontextprotocol/sdk) that connects to an MCP server, lists its tools
// and calls one, then prints one JSON line with what it saw. Used by
// tests/cli/mcp_cli.sh against `agentc mcp serve --stdio` and `--http`.
//   node sdk_client.mjs stdio TOOL ARGS_JSON -- CMD [ARGS...]
//   node sdk_client.mjs http  TOOL ARGS_JSON URL [BEARER_TOKEN]
// The SDK is loaded from $MCP_SDK_DIR (.deps/node_modules/@modelcontextprotocol/sdk):
// .deps is not an ancestor of this file, so a bare import would not find it.
// Exit 0 when the call worked (isError false), 1 otherwise.
import { pathToFileURL } from "node:url";

const sdk = process.env.MCP_SDK_DIR;
if (!sdk) {
  console.error("sdk_client: set MCP_SDK_DIR to .deps/node_modules/@modelcontextprotocol/sdk");
  process.exit(2);
}
const load = (p) => import(pathToFileURL(`${sdk}/dist/esm/${p}`).href);
const { Client } = await load("client/index.js");
const { StdioClientTransport } = await load("client/stdio.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");

const [mode, tool, argsJson, ...rest] = process.argv.slice(2);
let transport;
if (mode === "stdio") {
  const cmd = rest[0] === "--" ? rest.slice(1) : rest;
  transport = new StdioClientTransport({ command: cmd[0], args: cmd.slice(1), stderr: "inherit" });
} else if (mode === "http") {
  const headers = rest[1] ? { Authorization: `Bearer ${rest[1]}` } : {};
  transport = new StreamableHTTPClientTransport(new URL(rest[0]), { requestInit: { headers } });
} else {
  console.error("usage: sdk_client.mjs stdio|http TOOL ARGS_JSON ...");
  process.exit(2);
}
const client = new Client({ name: "agentc-sdk-interop", version: "1.0.0" });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(argsJson) });
  const text = (result.content || []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
  console.log(JSON.stringify({
    server: client.getServerVersion(),
    tools: tools.map((t) => t.name),
    isError: !!result.isError,
    text,
  }));
  await client.close();
  process.exit(result.isError ? 1 : 0);
} catch (e) {
  console.error(`sdk_client: ${e && e.message ? e.message : e}`);
  process.exit(1);
}
