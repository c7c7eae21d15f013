// The MCP endpoint driven by a client nobody here wrote: the official
// TypeScript SDK's Client over its Streamable HTTP transport (pinned in
// package.json), against real nginx, FastCGI and the jailed engine.
// Hand-written JSON-RPC edge cases are in tests/http/test_mcp.py.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startService } from "./lib.mjs";

let svc;
before(async () => { svc = await startService(); });
after(async () => { if (svc) await svc.stop(); });

async function connect() {
  const client = new Client({ name: "pysandbox-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${svc.url}/mcp`));
  await client.connect(transport);
  return { client, transport };
}

function text(result) {
  return result.content.filter((c) => c.type === "text").map((c) => c.text).join("");
}

test("the SDK client initializes, negotiates a version and lists the tools", async () => {
  const { client, transport } = await connect();
  try {
    assert.equal(client.getServerVersion().name, "pysandbox");
    assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
    // The SDK asks for its newest version; we answer the newest we speak.
    assert.equal(transport.protocolVersion, "2025-06-18");
    assert.ok(client.getServerCapabilities().tools);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(),
                     ["create_sandbox", "db_query", "db_schema", "delete_sandbox", "run_python",
                      "sandbox_execute"]);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      assert.equal(t.outputSchema.type, "object", t.name);
    }
    await client.ping();
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test("run_python returns output, result and charts as images; the SDK checks the output schema", async () => {
  const { client, transport } = await connect();
  try {
    const r = await client.callTool({
      name: "run_python",
      arguments: {
        code: [
          "import matplotlib.pyplot as plt",
          "print(sum(data))",
          "plt.plot(data)",
          "__result__ = {'n': len(data), 'big': 2**70}",
        ].join("\n"),
        data: [1, 2, 3, 4],
      },
    });
    assert.equal(r.isError, false);
    assert.equal(r.structuredContent.success, true);
    assert.equal(r.structuredContent.output, "10\n");
    assert.equal(r.structuredContent.result.n, 4);
    // The text item is the same JSON, for clients that read only text.
    assert.deepEqual(JSON.parse(text(r)), r.structuredContent);
    const images = r.content.filter((c) => c.type === "image");
    assert.equal(images.length, 1);
    assert.equal(images[0].mimeType, "image/png");
    assert.equal(Buffer.from(images[0].data, "base64").subarray(1, 4).toString(), "PNG");
    assert.equal(r.structuredContent.charts.length, 1);
    assert.equal(r.structuredContent.charts[0].data, undefined, "the bytes are the image item");

    const failed = await client.callTool({ name: "run_python", arguments: { code: "1/0" } });
    assert.equal(failed.isError, true);
    assert.equal(failed.structuredContent.error.type, "ZeroDivisionError");
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test("a sandbox keeps its names across sandbox_execute calls until delete_sandbox", async () => {
  const { client, transport } = await connect();
  try {
    const made = await client.callTool({ name: "create_sandbox", arguments: {} });
    assert.equal(made.isError, false);
    const id = made.structuredContent.sandbox_id;
    assert.match(id, /^[0-9a-f]{32}$/);
    const first = await client.callTool({
      name: "sandbox_execute", arguments: { sandbox_id: id, code: "x = 41" } });
    assert.equal(first.structuredContent.success, true);
    const second = await client.callTool({
      name: "sandbox_execute", arguments: { sandbox_id: id, code: "print(x + 1)" } });
    assert.equal(second.structuredContent.output, "42\n");
    const gone = await client.callTool({ name: "delete_sandbox", arguments: { sandbox_id: id } });
    assert.deepEqual(gone.structuredContent, { deleted: true });
    const after = await client.callTool({
      name: "sandbox_execute", arguments: { sandbox_id: id, code: "print(x)" } });
    assert.equal(after.isError, true);
    assert.match(text(after), /HTTP 404/);
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test("an unknown tool and a malformed sandbox id are JSON-RPC errors", async () => {
  const { client, transport } = await connect();
  try {
    await assert.rejects(client.callTool({ name: "rm_rf", arguments: {} }), /unknown tool: rm_rf/);
    await assert.rejects(
      client.callTool({ name: "sandbox_execute", arguments: { sandbox_id: "../health", code: "1" } }),
      /sandbox_id must be/);
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test("a terminated session is refused with 404", async () => {
  const { client, transport } = await connect();
  const id = transport.sessionId;
  await transport.terminateSession();
  await client.close();
  const r = await fetch(`${svc.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream",
               "mcp-session-id": id },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }),
  });
  assert.equal(r.status, 404);
  const body = await r.json();
  assert.equal(body.id, 7);
  assert.equal(body.error.code, -32001);
});
