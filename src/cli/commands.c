/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The command table: one line per subcommand, in the order `agentc --help` shows. */
#include "cli.h"

const agc_cli_cmd agc_cli_commands[] = {
    {"config", agc_cmd_config, "config check FILE [--json]",
     "validate a config or agent file and print it"},
    {"schema", agc_cmd_schema, "schema validate SCHEMA INSTANCE",
     "validate a JSON/YAML instance against a JSON Schema (draft 2020-12)"},
    {"models", agc_cmd_models, "models [--json]", "list provider presets and model prices"},
    {"ask", agc_cmd_ask, "ask PROMPT [--provider P] [OPTIONS]",
     "send one prompt to a provider and print the answer (--help for options)"},
    {"run", agc_cmd_run, "run [AGENT_FILE] [TASK|-] [OPTIONS]",
     "run an agent on a task (--help for options)"},
    {"chat", agc_cmd_chat, "chat [AGENT_FILE] [OPTIONS]",
     "talk with an agent, one message per line (/help inside)"},
    {"sessions", agc_cmd_sessions, "sessions [list|show RUN|rm RUN]",
     "list, inspect or delete stored runs"},
    {"resume", agc_cmd_resume, "resume RUN [OPTIONS]", "continue a paused or interrupted run"},
    {"approve", agc_cmd_approve, "approve RUN CALL --allow|--deny",
     "decide a tool call a paused run waits on (--reason TEXT)"},
    {"init", agc_cmd_init, "init [DIR] [--force]", "write a starter agent.yaml and AGENTS.md"},
    {"sandbox", agc_cmd_sandbox, "sandbox compile|inspect|run TOOL.wasm [OPTIONS]",
     "compile, inspect or run a WebAssembly tool in the sandbox"},
    {"audit", agc_cmd_audit, "audit verify|show|export|stats|append|keygen [OPTIONS]",
     "verify, inspect or export the tamper-evident audit trail (--help for options)"},
    {"mcp", agc_cmd_mcp, "mcp serve|list|call [OPTIONS]",
     "serve agentc's tools over MCP, or list/call an MCP server's tools (--help)"},
    {NULL, NULL, NULL, NULL},
};
