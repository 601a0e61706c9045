/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Model Context Protocol: transports (a vtable; stdio here, Streamable HTTP
 * later), a peer session (request/response correlation, timeouts,
 * cancellation, progress, ping, a message size cap, malformed input answered
 * with JSON-RPC errors while the connection stays usable), and the client and
 * server built on it (initialize handshake with version negotiation,
 * capabilities, tools/list with cursors, tools/call, logging).
 * Everything is single-threaded and steppable: a blocking call pumps the
 * transport until its answer arrives and serves the peer's requests meanwhile.
 * Not here yet: resources, prompts, completion, sampling, elicitation, roots,
 * the HTTP transport (see docs/mcp.md for how they plug in).
 */
#ifndef AGENTC_MCP_H
#define AGENTC_MCP_H

#include <jansson.h>

#include "common.h"
#include "log.h"
#include "tool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- protocol versions ----------------------------------------------------- */

#define AGC_MCP_PROTOCOL_LATEST "2025-11-25"
/* Versions this library speaks, newest first, NULL-terminated:
 * 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05. */
extern const char *const agc_mcp_protocol_versions[];
/* Whether v is in list (NULL list: agc_mcp_protocol_versions). */
bool agc_mcp_protocol_version_in(const char *v, const char *const *list);

/* Default cap on one message, both directions (16 MiB). */
#define AGC_MCP_DEFAULT_MAX_MESSAGE ((size_t)16 * 1024 * 1024)
/* Default per-request timeout (60 s). */
#define AGC_MCP_DEFAULT_TIMEOUT_MS 60000

/* ---- transports -------------------------------------------------------------- */

/*
 * A message transport. Messages are complete JSON-RPC texts without framing.
 * recv waits up to timeout_ms (<0: forever, 0: only what is already there):
 *   AGC_OK with *msg_out (agc_free on the transport's ctx) and *len_out,
 *   AGC_OK with *msg_out NULL when nothing arrived in time,
 *   AGC_ELIMIT when a message over the cap was discarded (still usable),
 *   AGC_EIO (sticky) when the peer is gone, with a message saying how.
 * close ends the connection gracefully (may be NULL); destroy frees self.
 */
typedef struct agc_mcp_transport_ops {
    unsigned version; /* AGC_MCP_TRANSPORT_OPS_VERSION */
    agc_status (*send)(void *self, const char *msg, size_t len);
    agc_status (*recv)(void *self, char **msg_out, size_t *len_out, int64_t timeout_ms);
    agc_status (*close)(void *self);
    void (*destroy)(void *self);
} agc_mcp_transport_ops;

#define AGC_MCP_TRANSPORT_OPS_VERSION 1

typedef struct agc_mcp_transport agc_mcp_transport;

/*
 * Wraps ops + self. Takes ownership of self (ops->destroy runs on free, also
 * when this call fails). ctx is used for errors and the transport's memory.
 * AGC_EINVAL (unknown ops version), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_transport_new(agc_mcp_transport **out,
                                               const agc_mcp_transport_ops *ops, void *self,
                                               agc_ctx *ctx);
/* Calls through the ops (see agc_mcp_transport_ops for the contract). */
agc_status agc_mcp_transport_send(agc_mcp_transport *t, const char *msg, size_t len);
agc_status agc_mcp_transport_recv(agc_mcp_transport *t, char **msg_out, size_t *len_out,
                                  int64_t timeout_ms);
/* Graceful close (idempotent); AGC_OK when there is nothing to close. */
agc_status agc_mcp_transport_close(agc_mcp_transport *t);
/* Closes (if not done) and frees; NULL is a no-op. */
void agc_mcp_transport_free(agc_mcp_transport *t);

/* How a stdio server process ended. */
typedef enum agc_mcp_stdio_stop {
    AGC_MCP_STOP_RUNNING = 0, /* not stopped (or not a child process) */
    AGC_MCP_STOP_EXITED,      /* it exited on its own before we closed its stdin */
    AGC_MCP_STOP_STDIN,       /* it exited after its stdin was closed */
    AGC_MCP_STOP_SIGTERM,     /* it needed SIGTERM */
    AGC_MCP_STOP_SIGKILL      /* it needed SIGKILL */
} agc_mcp_stdio_stop;

typedef struct agc_mcp_stdio_opts {
    unsigned version;           /* AGC_MCP_STDIO_OPTS_VERSION */
    const char *const *argv;    /* spawn: program and arguments (argv[0] searched in PATH) */
    const char *const *env;     /* spawn: "K=V" list, NULL-terminated; NULL inherits ours */
    const char *cwd;            /* spawn: working directory; NULL inherits ours */
    const char *name;           /* for logs and messages; NULL: argv[0] (or "peer") */
    size_t max_message_bytes;   /* incoming cap; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
    int64_t shutdown_grace_ms;  /* wait after closing stdin, and again after SIGTERM; 0: 2000 */
    int64_t write_timeout_ms;   /* a peer that stops reading fails a send after this; 0: 30000 */
    agc_log_level stderr_level; /* level of the server's stderr lines in agc_log */
} agc_mcp_stdio_opts;

#define AGC_MCP_STDIO_OPTS_VERSION 1
#define AGC_MCP_STDIO_OPTS_INIT                                                                    \
    {                                                                                              \
        AGC_MCP_STDIO_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, AGC_LOG_INFO                  \
    }

void agc_mcp_stdio_opts_init(agc_mcp_stdio_opts *opts);

/*
 * Client side: spawns the server (argv, env, cwd) in its own process group
 * with pipes on stdin/stdout/stderr. Messages are newline-delimited JSON;
 * each stderr line goes to agc_log (module "mcp") at opts->stderr_level.
 * Closing: close the server's stdin, wait up to shutdown_grace_ms, SIGTERM
 * the group, wait again, SIGKILL. AGC_EINVAL (no argv), AGC_ENOTFOUND
 * (program not found), AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_stdio_spawn(agc_mcp_transport **out,
                                             const agc_mcp_stdio_opts *opts, agc_ctx *ctx);
/*
 * Server side (or tests): reads messages from in_fd and writes to out_fd
 * (e.g. 0 and 1). The fds are borrowed: never closed here. The fds are made
 * non-blocking. opts may be NULL. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_stdio_open_fds(agc_mcp_transport **out, int in_fd, int out_fd,
                                                const agc_mcp_stdio_opts *opts, agc_ctx *ctx);
/* The child's pid (spawned transports), else -1. */
int agc_mcp_stdio_pid(const agc_mcp_transport *t);
/*
 * How the child ended: stage, and its exit code (>= 0) or the signal that
 * killed it (*sig_out > 0); -1 each while unknown. Outputs may be NULL.
 * Returns AGC_MCP_STOP_RUNNING for transports that are not spawned stdio.
 */
agc_mcp_stdio_stop agc_mcp_stdio_exit_info(const agc_mcp_transport *t, int *code_out, int *sig_out);

/* ---- sessions ------------------------------------------------------------------ */

typedef struct agc_mcp_session agc_mcp_session;
/* An incoming request while its handler runs. Borrowed for the handler call only. */
typedef struct agc_mcp_request agc_mcp_request;

/*
 * Handles one incoming request. On AGC_OK *result_out holds the result
 * object (owned; NULL sends {}). On failure the ctx message becomes the
 * JSON-RPC error message; the code is the one set with
 * agc_mcp_request_set_error_code, else -32602 for AGC_EINVAL/AGC_ESCHEMA,
 * -32601 for AGC_EUNSUPPORTED, -32603 otherwise. user is the session's.
 */
typedef agc_status (*agc_mcp_method_fn)(json_t **result_out, agc_mcp_request *req,
                                        const json_t *params, void *user);
/* A method registry: NULL-terminated {name, fn} table (end with {NULL, NULL}). */
typedef struct agc_mcp_method {
    const char *name;
    agc_mcp_method_fn fn;
} agc_mcp_method;

/* Handles one incoming notification (params may be NULL). */
typedef void (*agc_mcp_notification_fn)(agc_mcp_session *s, const json_t *params, void *user);
typedef struct agc_mcp_notification {
    const char *name;
    agc_mcp_notification_fn fn;
} agc_mcp_notification;

typedef struct agc_mcp_session_opts {
    unsigned version;              /* AGC_MCP_SESSION_OPTS_VERSION */
    const agc_mcp_method *methods; /* incoming requests; NULL: none (ping is built in) */
    const agc_mcp_notification *notifications; /* incoming notifications; NULL: none */
    void *user;                                /* given to the handlers */
    int64_t request_timeout_ms;                /* 0: AGC_MCP_DEFAULT_TIMEOUT_MS */
    size_t max_message_bytes;                  /* outgoing cap; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
} agc_mcp_session_opts;

#define AGC_MCP_SESSION_OPTS_VERSION 1
#define AGC_MCP_SESSION_OPTS_INIT                                                                  \
    {                                                                                              \
        AGC_MCP_SESSION_OPTS_VERSION, NULL, NULL, NULL, 0, 0                                       \
    }

void agc_mcp_session_opts_init(agc_mcp_session_opts *opts);

/*
 * Creates a session over t, taking ownership of t (also on failure).
 * The tables in opts are borrowed and must outlive the session.
 * AGC_EINVAL (unknown opts version), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_session_new(agc_mcp_session **out, agc_mcp_transport *t,
                                             const agc_mcp_session_opts *opts, agc_ctx *ctx);
/* Closes the transport gracefully and frees everything; NULL is a no-op. */
void agc_mcp_session_free(agc_mcp_session *s);
/* Graceful close of the transport now (idempotent). */
agc_status agc_mcp_session_close(agc_mcp_session *s);

/* Progress report of a request we sent: total < 0 when unknown, message may be NULL. */
typedef void (*agc_mcp_progress_fn)(double progress, double total, const char *message, void *user);

typedef struct agc_mcp_call_opts {
    unsigned version;             /* AGC_MCP_CALL_OPTS_VERSION */
    int64_t timeout_ms;           /* 0: the session's; < 0: none */
    agc_mcp_progress_fn progress; /* set: asks for progress (_meta.progressToken) */
    void *progress_user;
    bool progress_resets_timeout;  /* each progress report restarts the timeout */
    const agc_atomic_bool *cancel; /* polled (every 50 ms at most): true cancels the request */
} agc_mcp_call_opts;

#define AGC_MCP_CALL_OPTS_VERSION 1
#define AGC_MCP_CALL_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_MCP_CALL_OPTS_VERSION, 0, NULL, NULL, false, NULL                                      \
    }

/*
 * Sends a request and waits for its response, serving the peer's messages
 * meanwhile. On AGC_OK *result_out is the result (a new reference). params
 * are borrowed (NULL: none). Errors: AGC_ETIMEDOUT (names the method and
 * the timeout; notifications/cancelled is sent), AGC_ECANCELED (likewise),
 * AGC_EPROTO (the peer answered with an error: message "peer answered
 * 'method' with error CODE (name): text"; the code is then
 * agc_mcp_session_last_rpc_error()), AGC_EIO (peer gone), AGC_ELIMIT (the
 * request or its response exceeds the cap), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_session_request(json_t **result_out, agc_mcp_session *s,
                                                 const char *method, const json_t *params,
                                                 const agc_mcp_call_opts *opts);
/* Sends a notification. AGC_EIO, AGC_ELIMIT, AGC_ENOMEM. */
agc_status agc_mcp_session_notify(agc_mcp_session *s, const char *method, const json_t *params);
/* Sends ping and waits for its empty result (timeout_ms 0: the session's). */
agc_status agc_mcp_session_ping(agc_mcp_session *s, int64_t timeout_ms);
/*
 * Waits up to timeout_ms (<0 forever) for one incoming message and handles
 * it (also runs messages deferred while a handler was running). AGC_OK
 * (also when nothing came), AGC_EIO once the peer is gone, AGC_ENOMEM.
 */
agc_status agc_mcp_session_step(agc_mcp_session *s, int64_t timeout_ms);
/* Steps until the peer closes the connection: AGC_OK then; other failures pass up. */
agc_status agc_mcp_session_serve(agc_mcp_session *s);
/* Whether the peer is gone. */
bool agc_mcp_session_closed(const agc_mcp_session *s);
/* JSON-RPC code of the last error answer to one of our requests (0: none). */
int agc_mcp_session_last_rpc_error(const agc_mcp_session *s);
/* Malformed messages received so far (each was answered or logged). */
unsigned long agc_mcp_session_malformed_count(const agc_mcp_session *s);
/* The ctx and the transport (borrowed for the session's lifetime). */
agc_ctx *agc_mcp_session_ctx(const agc_mcp_session *s);
agc_mcp_transport *agc_mcp_session_transport(const agc_mcp_session *s);

/* Accessors for handlers; borrowed for the handler call. */
const json_t *agc_mcp_request_id(const agc_mcp_request *req);
const char *agc_mcp_request_method(const agc_mcp_request *req);
agc_mcp_session *agc_mcp_request_session(const agc_mcp_request *req);
/* Sets the JSON-RPC code used when the handler fails. */
void agc_mcp_request_set_error_code(agc_mcp_request *req, int code);
/*
 * Reads what the peer already sent (without waiting) and reports whether it
 * canceled this request (notifications/cancelled). Other messages that
 * arrive are kept and handled after the handler returns. A canceled
 * request gets no response.
 */
bool agc_mcp_request_canceled(agc_mcp_request *req);
/* The cancel flag (set by agc_mcp_request_canceled); lives as long as req. */
const agc_atomic_bool *agc_mcp_request_cancel_flag(const agc_mcp_request *req);
/*
 * Sends notifications/progress when the peer asked for progress (a no-op
 * otherwise). total < 0: unknown; message may be NULL. AGC_EIO, AGC_ENOMEM.
 */
agc_status agc_mcp_request_progress(agc_mcp_request *req, double progress, double total,
                                    const char *message);

/* ---- capabilities ---------------------------------------------------------------- */

/* What a peer offered in initialize (false: absent). */
typedef struct agc_mcp_caps {
    /* server capabilities */
    bool tools, tools_list_changed;
    bool resources, resources_subscribe, resources_list_changed;
    bool prompts, prompts_list_changed;
    bool logging, completions;
    /* client capabilities */
    bool roots, roots_list_changed, sampling, elicitation;
} agc_mcp_caps;

/* ---- client ------------------------------------------------------------------------ */

typedef struct agc_mcp_client agc_mcp_client;

/* A notifications/message from the server: level ("info", "error", ...), logger (may be NULL). */
typedef void (*agc_mcp_log_fn)(const char *level, const char *logger, const json_t *data,
                               void *user);

typedef struct agc_mcp_client_opts {
    unsigned version;                     /* AGC_MCP_CLIENT_OPTS_VERSION */
    const char *name;                     /* clientInfo.name; NULL: "agentc" */
    const char *client_version;           /* clientInfo.version; NULL: agc_version() */
    const char *const *protocol_versions; /* accepted, the first is offered; NULL: all ours */
    int64_t timeout_ms;                   /* per request; 0: AGC_MCP_DEFAULT_TIMEOUT_MS */
    size_t max_message_bytes;             /* outgoing cap; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
    agc_mcp_log_fn on_log;                /* NULL: server log lines go to agc_log */
    void *log_user;
} agc_mcp_client_opts;

#define AGC_MCP_CLIENT_OPTS_VERSION 1
#define AGC_MCP_CLIENT_OPTS_INIT                                                                   \
    {                                                                                              \
        AGC_MCP_CLIENT_OPTS_VERSION, NULL, NULL, NULL, 0, 0, NULL, NULL                            \
    }

void agc_mcp_client_opts_init(agc_mcp_client_opts *opts);

/*
 * Creates a client over t (owned, also on failure). Call
 * agc_mcp_client_initialize before anything else. AGC_EINVAL, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_client_new(agc_mcp_client **out, agc_mcp_transport *t,
                                            const agc_mcp_client_opts *opts, agc_ctx *ctx);
/* Closes the connection gracefully and frees; NULL is a no-op. */
void agc_mcp_client_free(agc_mcp_client *c);
/*
 * The handshake: initialize (offering the first accepted version and our
 * capabilities), checks the server's version is one we accept, then sends
 * notifications/initialized. AGC_EPROTO (version refused: the message names
 * both sides' versions; or a malformed answer), plus agc_mcp_session_request's.
 */
AGC_NODISCARD agc_status agc_mcp_client_initialize(agc_mcp_client *c);
/* After initialize: the negotiated version, the server's info and capabilities.
 * Borrowed until the client is freed; NULL (or all false) before. */
const char *agc_mcp_client_protocol_version(const agc_mcp_client *c);
const char *agc_mcp_client_server_name(const agc_mcp_client *c);
const char *agc_mcp_client_server_version(const agc_mcp_client *c);
const char *agc_mcp_client_instructions(const agc_mcp_client *c);
const agc_mcp_caps *agc_mcp_client_server_caps(const agc_mcp_client *c);
/* Whether the server sent notifications/tools/list_changed since the last tools/list. */
bool agc_mcp_client_tools_changed(const agc_mcp_client *c);
agc_mcp_session *agc_mcp_client_session(const agc_mcp_client *c);

/*
 * One tools/list page from cursor (NULL: the first). *tools_out is the
 * "tools" array (new reference), *next_cursor_out the next cursor (agc_free)
 * or NULL at the end. AGC_EUNSUPPORTED when the server offered no tools,
 * AGC_EPROTO for a malformed answer, plus agc_mcp_session_request's.
 */
AGC_NODISCARD agc_status agc_mcp_client_list_tools(json_t **tools_out, char **next_cursor_out,
                                                   agc_mcp_client *c, const char *cursor);
/* Every page concatenated (at most 1000 pages; a repeated cursor is AGC_EPROTO). */
AGC_NODISCARD agc_status agc_mcp_client_list_all_tools(json_t **tools_out, agc_mcp_client *c);

/* A tools/call outcome. Free with agc_mcp_tool_result_clear. */
typedef struct agc_mcp_tool_result {
    bool is_error;
    json_t *content;    /* the content array (owned) */
    json_t *structured; /* structuredContent or NULL (owned) */
    char *text;         /* the text blocks joined by newlines (owned, agc_free); never NULL on OK */
} agc_mcp_tool_result;

void agc_mcp_tool_result_clear(agc_mcp_tool_result *r, agc_ctx *ctx);

/*
 * Calls a tool. args is an object (borrowed; NULL: {}). A tool failure is
 * AGC_OK with out->is_error (its text says why). AGC_EUNSUPPORTED (no tools
 * capability), AGC_EPROTO (protocol error, e.g. unknown tool), plus
 * agc_mcp_session_request's.
 */
AGC_NODISCARD agc_status agc_mcp_client_call_tool(agc_mcp_tool_result *out, agc_mcp_client *c,
                                                  const char *name, const json_t *args,
                                                  const agc_mcp_call_opts *opts);
/* ping. */
agc_status agc_mcp_client_ping(agc_mcp_client *c);
/* logging/setLevel ("debug", "info", "notice", "warning", "error", "critical", "alert",
 * "emergency"). AGC_EUNSUPPORTED when the server offered no logging, AGC_EINVAL. */
agc_status agc_mcp_client_set_log_level(agc_mcp_client *c, const char *level);

/* ---- server ------------------------------------------------------------------------ */

typedef struct agc_mcp_server agc_mcp_server;

typedef struct agc_mcp_server_opts {
    unsigned version;                     /* AGC_MCP_SERVER_OPTS_VERSION */
    const char *name;                     /* serverInfo.name; NULL: "agentc" */
    const char *server_version;           /* serverInfo.version; NULL: agc_version() */
    const char *instructions;             /* NULL: none */
    const char *const *protocol_versions; /* spoken, newest first; NULL: all ours */
    size_t page_size;                     /* tools per tools/list page; 0: 100 */
    int64_t timeout_ms;                   /* for requests we send; 0: default */
    size_t max_message_bytes;             /* outgoing cap; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
} agc_mcp_server_opts;

#define AGC_MCP_SERVER_OPTS_VERSION 1
#define AGC_MCP_SERVER_OPTS_INIT                                                                   \
    {                                                                                              \
        AGC_MCP_SERVER_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0                               \
    }

void agc_mcp_server_opts_init(agc_mcp_server_opts *opts);

/*
 * Creates a server over t (owned, also on failure) exposing the tools of reg
 * (borrowed, may be NULL: no tools capability; must outlive the server).
 * Tool calls go through agc_tool_registry_invoke with cctx->cancel set to
 * the request's cancel flag and cctx->user to the agc_mcp_request (see
 * agc_mcp_request_from_tool_call). AGC_EINVAL, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_server_new(agc_mcp_server **out, agc_mcp_transport *t,
                                            agc_tool_registry *reg, const agc_mcp_server_opts *opts,
                                            agc_ctx *ctx);
void agc_mcp_server_free(agc_mcp_server *s);
/* Serves until the client closes the connection (AGC_OK) or a fatal error. */
agc_status agc_mcp_server_run(agc_mcp_server *s);
/*
 * Sends notifications/message when level is at or above the level the
 * client set (logging/setLevel; "info" until then). data is borrowed.
 * AGC_EINVAL (unknown level), AGC_EIO, AGC_ENOMEM.
 */
agc_status agc_mcp_server_log(agc_mcp_server *s, const char *level, const char *logger,
                              const json_t *data);
/* After initialize: the negotiated version and the client's capabilities. */
const char *agc_mcp_server_protocol_version(const agc_mcp_server *s);
const agc_mcp_caps *agc_mcp_server_client_caps(const agc_mcp_server *s);
agc_mcp_session *agc_mcp_server_session(const agc_mcp_server *s);
/*
 * Inside a tool run by an agc_mcp_server: the request being served (for
 * progress and cancellation). Only valid for tool calls made by the server
 * (it reads cctx->user); NULL when cctx is NULL.
 */
agc_mcp_request *agc_mcp_request_from_tool_call(const agc_tool_call_ctx *cctx);

/* Log levels of MCP (syslog order) and their index 0..7; -1 when unknown. */
int agc_mcp_log_level_index(const char *level);

#ifdef __cplusplus
}
#endif
#endif
