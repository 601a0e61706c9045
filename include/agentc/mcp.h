/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Model Context Protocol: transports (a vtable; stdio here, Streamable HTTP
 * in mcp_http_server.h and the client's header), a peer session
 * (request/response correlation, timeouts, cancellation, progress, ping, a
 * message size cap, malformed input answered with JSON-RPC errors while the
 * connection stays usable), and the client and server built on it
 * (initialize with version and capability negotiation; the server offers
 * tools, resources, prompts, completion, logging and sends sampling,
 * elicitation and roots requests to its client).
 * Everything is single-threaded and steppable: a blocking call pumps the
 * transport until its answer arrives and serves the peer's requests meanwhile.
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
    unsigned version; /* AGC_MCP_TRANSPORT_OPS_VERSION (1 and 2 are accepted) */
    agc_status (*send)(void *self, const char *msg, size_t len);
    agc_status (*recv)(void *self, char **msg_out, size_t *len_out, int64_t timeout_ms);
    agc_status (*close)(void *self);
    void (*destroy)(void *self);
    /* Version 2, optional (NULL: send is used). Sends msg with routing
     * information: related_id is the id of the incoming request this message
     * belongs to (the request being answered, or the one whose handler is
     * sending a notification or a request of its own), NULL when none; final
     * says msg is the response to related_id. HTTP uses it to pick the SSE
     * stream. */
    agc_status (*send_related)(void *self, const char *msg, size_t len, const json_t *related_id,
                               bool final);
    /* Version 2, optional: ends the response stream carrying the request
     * related_id without answering it (the client resumes with Last-Event-ID;
     * Streamable HTTP only). */
    void (*close_stream)(void *self, const json_t *related_id);
} agc_mcp_transport_ops;

#define AGC_MCP_TRANSPORT_OPS_VERSION 2

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
/*
 * Ends the HTTP response stream of this request without answering it yet
 * (SSE polling, SEP-1699): the client reconnects with Last-Event-ID and gets
 * the response there. A no-op on transports without streams (stdio).
 */
void agc_mcp_request_close_stream(agc_mcp_request *req);

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

/*
 * Answers a request the server sends us (sampling/createMessage,
 * elicitation/create). params are borrowed. On AGC_OK *result_out is the
 * result object (owned, taken by the library): for sampling {role, content,
 * model, stopReason}, for elicitation {action: "accept"|"decline"|"cancel",
 * content}. On failure the ctx message becomes the JSON-RPC error message:
 * AGC_EPERM (the user or the policy refused) is sent with code -1, AGC_EINVAL
 * with -32602, others with -32603. Runs on the thread waiting in the client.
 */
typedef agc_status (*agc_mcp_client_request_fn)(json_t **result_out, agc_mcp_client *c,
                                                const json_t *params, void *user);
/*
 * Notifications other than logging and progress: method is
 * "notifications/tools/list_changed", ".../resources/list_changed",
 * ".../resources/updated" (params.uri), ".../prompts/list_changed", or any
 * other the server sends. params may be NULL. The tools cache is already
 * invalidated when this runs.
 */
typedef void (*agc_mcp_client_notify_fn)(agc_mcp_client *c, const char *method,
                                         const json_t *params, void *user);

typedef struct agc_mcp_client_opts {
    unsigned version;                     /* AGC_MCP_CLIENT_OPTS_VERSION */
    const char *name;                     /* clientInfo.name; NULL: "agentc" */
    const char *client_version;           /* clientInfo.version; NULL: agc_version() */
    const char *const *protocol_versions; /* accepted, the first is offered; NULL: all ours */
    int64_t timeout_ms;                   /* per request; 0: AGC_MCP_DEFAULT_TIMEOUT_MS */
    size_t max_message_bytes;             /* outgoing cap; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
    agc_mcp_log_fn on_log;                /* NULL: server log lines go to agc_log */
    void *log_user;
    /* Server-to-client requests. A capability is advertised only when its handler
     * (or roots list) is set; without one the request is refused with -32601. */
    agc_mcp_client_request_fn on_sampling; /* sampling/createMessage */
    void *sampling_user;
    agc_mcp_client_request_fn on_elicitation; /* elicitation/create (form mode) */
    void *elicitation_user;
    const json_t *roots; /* array of {uri, name?} for roots/list (copied); NULL: no roots */
    agc_mcp_client_notify_fn on_notify; /* list_changed, resources/updated, others */
    void *notify_user;
} agc_mcp_client_opts;

#define AGC_MCP_CLIENT_OPTS_VERSION 1
#define AGC_MCP_CLIENT_OPTS_INIT                                                                   \
    {                                                                                              \
        AGC_MCP_CLIENT_OPTS_VERSION, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL,   \
            NULL, NULL, NULL                                                                       \
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
 * AGC_OK with out->is_error (its text says why). When the tools cache
 * (agc_mcp_client_tools) knows the tool and it declares an outputSchema, a
 * successful result's structuredContent is validated against it.
 * AGC_EUNSUPPORTED (no tools capability), AGC_EPROTO (protocol error, e.g.
 * unknown tool, or structuredContent missing), AGC_ESCHEMA (structuredContent
 * does not match the outputSchema), plus agc_mcp_session_request's.
 */
AGC_NODISCARD agc_status agc_mcp_client_call_tool(agc_mcp_tool_result *out, agc_mcp_client *c,
                                                  const char *name, const json_t *args,
                                                  const agc_mcp_call_opts *opts);
/* ping. */
agc_status agc_mcp_client_ping(agc_mcp_client *c);
/* logging/setLevel ("debug", "info", "notice", "warning", "error", "critical", "alert",
 * "emergency"). AGC_EUNSUPPORTED when the server offered no logging, AGC_EINVAL. */
agc_status agc_mcp_client_set_log_level(agc_mcp_client *c, const char *level);

/*
 * The server's tools, all pages, cached: fetched on first use and again after
 * notifications/tools/list_changed. *tools_out is borrowed until the next
 * call that may refresh it (or the client is freed). Errors as list_all_tools.
 */
AGC_NODISCARD agc_status agc_mcp_client_tools(const json_t **tools_out, agc_mcp_client *c);
/* A tool of the cache by name (borrowed as above), or NULL (also when never fetched). */
const json_t *agc_mcp_client_find_tool(const agc_mcp_client *c, const char *name);

/*
 * Any request (for methods without a helper): checks the handshake was done,
 * then agc_mcp_session_request (same errors; opts may be NULL).
 */
AGC_NODISCARD agc_status agc_mcp_client_request(json_t **result_out, agc_mcp_client *c,
                                                const char *method, const json_t *params,
                                                const agc_mcp_call_opts *opts);

/* ---- resources, prompts, completion (each checks the server's capability:
 *      AGC_EUNSUPPORTED when it was not offered; AGC_EPROTO for an error answer or
 *      a malformed result, plus agc_mcp_session_request's errors) ---- */

/* One resources/list page: *items_out the "resources" array (owned), *next_cursor_out
 * the next cursor (agc_free) or NULL at the end. */
AGC_NODISCARD agc_status agc_mcp_client_list_resources(json_t **items_out, char **next_cursor_out,
                                                       agc_mcp_client *c, const char *cursor);
/* Every resources/list page concatenated (at most 1000 pages). */
AGC_NODISCARD agc_status agc_mcp_client_list_all_resources(json_t **items_out, agc_mcp_client *c);
/* resources/templates/list, one page or all ("resourceTemplates"). */
AGC_NODISCARD agc_status agc_mcp_client_list_resource_templates(json_t **items_out,
                                                                char **next_cursor_out,
                                                                agc_mcp_client *c,
                                                                const char *cursor);
AGC_NODISCARD agc_status agc_mcp_client_list_all_resource_templates(json_t **items_out,
                                                                    agc_mcp_client *c);
/* resources/read: *contents_out the "contents" array (owned; items have uri and text or
 * blob (base64), mimeType). */
AGC_NODISCARD agc_status agc_mcp_client_read_resource(json_t **contents_out, agc_mcp_client *c,
                                                      const char *uri);
/* resources/subscribe and unsubscribe (need the subscribe capability);
 * updates arrive as notifications/resources/updated through opts.on_notify. */
agc_status agc_mcp_client_subscribe(agc_mcp_client *c, const char *uri);
agc_status agc_mcp_client_unsubscribe(agc_mcp_client *c, const char *uri);

/* prompts/list, one page or all ("prompts"). */
AGC_NODISCARD agc_status agc_mcp_client_list_prompts(json_t **items_out, char **next_cursor_out,
                                                     agc_mcp_client *c, const char *cursor);
AGC_NODISCARD agc_status agc_mcp_client_list_all_prompts(json_t **items_out, agc_mcp_client *c);
/* prompts/get: args is an object of string values (borrowed, NULL: none);
 * *result_out the whole result ({description?, messages}, owned). */
AGC_NODISCARD agc_status agc_mcp_client_get_prompt(json_t **result_out, agc_mcp_client *c,
                                                   const char *name, const json_t *args);

/*
 * completion/complete. ref is {"type":"ref/prompt","name":...} or
 * {"type":"ref/resource","uri":...} (borrowed); context_args (borrowed, may be
 * NULL) the values of arguments already given. *completion_out is the
 * "completion" object ({values, total?, hasMore?}, owned).
 */
AGC_NODISCARD agc_status agc_mcp_client_complete(json_t **completion_out, agc_mcp_client *c,
                                                 const json_t *ref, const char *arg_name,
                                                 const char *arg_value, const json_t *context_args);

/* Replaces the roots (array of {uri, name?}, copied) and, after initialize, sends
 * notifications/roots/list_changed. AGC_EINVAL (not an array or roots were not
 * enabled in the options: the capability is fixed at initialize), AGC_ENOMEM, AGC_EIO. */
agc_status agc_mcp_client_set_roots(agc_mcp_client *c, const json_t *roots);

/*
 * An elicitation answer built from the schema's defaults (SEP-1034): for each
 * property of requested_schema with a "default", content gets that value.
 * *content_out is a new object (owned; empty when no defaults). AGC_EINVAL
 * when the schema has no "properties" object, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_elicit_defaults(json_t **content_out,
                                                 const json_t *requested_schema, agc_ctx *ctx);

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

/*
 * Server features beyond the registry. Add them before agc_mcp_server_run or
 * from a handler (the server is single-threaded: never from another thread).
 * Adding after initialize sends notifications/<kind>/list_changed. The
 * definitions are copied. Handlers get the request being served (progress,
 * cancellation, agc_mcp_request_server for logging and client requests).
 */

/* The server serving req (for handlers of server features); NULL for client sessions. */
agc_mcp_server *agc_mcp_request_server(const agc_mcp_request *req);

/*
 * A tool. *result_out is a CallToolResult object (owned): "content" (array;
 * added empty when missing; with only "structuredContent" its JSON text is
 * added), optional "structuredContent", "isError". A failing status becomes
 * an isError result whose text is the ctx message (tool errors are results
 * in MCP, not protocol errors). args is the "arguments" object ({} when absent).
 */
typedef agc_status (*agc_mcp_tool_fn)(json_t **result_out, agc_mcp_request *req, const json_t *args,
                                      void *user);

typedef struct agc_mcp_server_tool {
    const char *name;
    const char *title;           /* NULL: none */
    const char *description;     /* NULL: "" */
    const json_t *input_schema;  /* NULL: {"type":"object","properties":{}}; args are validated */
    const json_t *output_schema; /* NULL: none; when set, structuredContent is validated */
    const json_t *annotations;   /* NULL: none (readOnlyHint, destructiveHint, ...) */
    agc_mcp_tool_fn fn;
    void *user;
} agc_mcp_server_tool;

/* Adds (or replaces, by name) a tool. AGC_EINVAL (no name/fn, bad schema), AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_mcp_server_add_tool(agc_mcp_server *s, const agc_mcp_server_tool *t);
/* Removes a tool by name; AGC_ENOTFOUND when there is none. */
agc_status agc_mcp_server_remove_tool(agc_mcp_server *s, const char *name);

/*
 * Reads a resource: *contents_out is the "contents" array (owned) of
 * {uri, mimeType?, text | blob}. vars holds the template variables
 * ({"id": "123"}) for templates, NULL for direct resources. AGC_ENOTFOUND
 * answers -32002 (resource not found).
 */
typedef agc_status (*agc_mcp_resource_fn)(json_t **contents_out, agc_mcp_request *req,
                                          const char *uri, const json_t *vars, void *user);

typedef struct agc_mcp_server_resource {
    const char *uri;          /* a direct resource, or NULL with uri_template */
    const char *uri_template; /* RFC 6570 simple template: "test://template/{id}/data" */
    const char *name;
    const char *title;       /* NULL: none */
    const char *description; /* NULL: none */
    const char *mime_type;   /* NULL: none */
    agc_mcp_resource_fn fn;
    void *user;
} agc_mcp_server_resource;

/* Adds (or replaces, by uri/template) a resource. AGC_EINVAL, AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_mcp_server_add_resource(agc_mcp_server *s,
                                                     const agc_mcp_server_resource *r);
/* Sends notifications/resources/updated when the client subscribed to uri. */
agc_status agc_mcp_server_resource_updated(agc_mcp_server *s, const char *uri);
/* Whether the client is subscribed to uri. */
bool agc_mcp_server_subscribed(const agc_mcp_server *s, const char *uri);

/* A prompt: *result_out is a GetPromptResult ({description?, messages}); args maps
 * argument names to strings (required ones are checked before the call). */
typedef agc_status (*agc_mcp_prompt_fn)(json_t **result_out, agc_mcp_request *req,
                                        const json_t *args, void *user);

typedef struct agc_mcp_prompt_arg {
    const char *name;
    const char *description; /* NULL: none */
    bool required;
} agc_mcp_prompt_arg;

typedef struct agc_mcp_server_prompt {
    const char *name;
    const char *title;       /* NULL: none */
    const char *description; /* NULL: none */
    const agc_mcp_prompt_arg *args;
    size_t nargs;
    agc_mcp_prompt_fn fn;
    void *user;
} agc_mcp_server_prompt;

/* Adds (or replaces, by name) a prompt. AGC_EINVAL, AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_mcp_server_add_prompt(agc_mcp_server *s,
                                                   const agc_mcp_server_prompt *p);

/*
 * completion/complete: ref is {"type":"ref/prompt","name"} or
 * {"type":"ref/resource","uri"}; *values_out an array of strings (owned; at
 * most 100 are sent, hasMore tells the rest). context: the request's
 * "context" or NULL. Without a function every completion is empty.
 */
typedef agc_status (*agc_mcp_complete_fn)(json_t **values_out, agc_mcp_request *req,
                                          const json_t *ref, const char *arg_name,
                                          const char *arg_value, const json_t *context, void *user);
void agc_mcp_server_set_completion(agc_mcp_server *s, agc_mcp_complete_fn fn, void *user);

/*
 * Requests to the client, from a handler (the message travels on the
 * stream of the request being served) or the serving thread. Each checks
 * the client's capability first (AGC_EUNSUPPORTED naming it), then behaves
 * like agc_mcp_session_request. *result_out is the client's result:
 * sampling/createMessage ({role, content, model, stopReason}),
 * elicitation/create ({action, content?}); for roots/list the "roots" array.
 */
AGC_NODISCARD agc_status agc_mcp_server_create_message(json_t **result_out, agc_mcp_server *s,
                                                       const json_t *params,
                                                       const agc_mcp_call_opts *opts);
AGC_NODISCARD agc_status agc_mcp_server_elicit(json_t **result_out, agc_mcp_server *s,
                                               const json_t *params, const agc_mcp_call_opts *opts);
AGC_NODISCARD agc_status agc_mcp_server_list_roots(json_t **roots_out, agc_mcp_server *s,
                                                   const agc_mcp_call_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
