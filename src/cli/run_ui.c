/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The terminal view of a run (see run_ui.h): renders events as they arrive
 * and asks the interactive approval question. Model text goes to stdout,
 * everything else to stderr; stdout is flushed before each stderr line so
 * that both interleave correctly on one terminal or one pipe (2>&1).
 * It keeps no state beyond the current line and turn; it never changes the run.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/json.h"
#include "run_ui.h"

#define SHORT_ARGS 96 /* characters of arguments shown on a tool line */

void agc_run_ui_init(agc_run_ui *ui, bool quiet)
{
    memset(ui, 0, sizeof *ui);
    ui->out = stdout;
    ui->err = stderr;
    ui->quiet = quiet;
    ui->stream_text = !quiet;
    ui->wake_fd = -1;
    const char *nc = getenv("NO_COLOR");
    ui->color = isatty(STDERR_FILENO) && !(nc && *nc);
}

bool agc_run_ui_interactive(void)
{
    return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

static const char *sty(const agc_run_ui *ui, const char *code)
{
    return ui->color ? code : "";
}
#define DIM(ui)   sty(ui, "\033[2m")
#define BOLD(ui)  sty(ui, "\033[1m")
#define RED(ui)   sty(ui, "\033[31m")
#define GREEN(ui) sty(ui, "\033[32m")
#define CYAN(ui)  sty(ui, "\033[36m")
#define YEL(ui)   sty(ui, "\033[33m")
#define RESET(ui) sty(ui, "\033[0m")

void agc_run_ui_newline(agc_run_ui *ui)
{
    if (ui->mid_line) {
        fputc('\n', ui->out);
        ui->mid_line = false;
    }
    fflush(ui->out);
}

/* ---- short forms ------------------------------------------------------------ */

/* Appends s to buf[*n..size), cut with "..." when it does not fit. */
static void put(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
    if (*n + 1 >= size)
        return;
    size_t room = size - 1 - *n;
    if (len > room) {
        len = room > 3 ? room - 3 : 0;
        memcpy(buf + *n, s, len);
        *n += len;
        size_t dots = room - len < 3 ? room - len : 3;
        memcpy(buf + *n, "...", dots);
        *n += dots;
    } else {
        memcpy(buf + *n, s, len);
        *n += len;
    }
    buf[*n] = '\0';
}

static void puts_(char *buf, size_t size, size_t *n, const char *s)
{
    put(buf, size, n, s, strlen(s));
}

/* A patch in a few words: the files it touches and its +/- line counts. */
static void patch_summary(char *buf, size_t size, size_t *n, const char *patch)
{
    int plus = 0, minus = 0, files = 0;
    for (const char *l = patch; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        static const char *const marks[] = {
            "*** Update File: ", "*** Add File: ", "*** Delete File: "};
        bool marker = false;
        for (size_t i = 0; i < 3; i++) {
            size_t ml = strlen(marks[i]);
            if (len > ml && strncmp(l, marks[i], ml) == 0) {
                puts_(buf, size, n, files++ ? ", " : "");
                put(buf, size, n, l + ml, len - ml);
                marker = true;
            }
        }
        if (!marker && len && l[0] == '+')
            plus++;
        else if (!marker && len && l[0] == '-')
            minus++;
        l = e ? e + 1 : NULL;
    }
    char counts[48];
    snprintf(counts, sizeof counts, " (+%d -%d)", plus, minus);
    puts_(buf, size, n, counts);
}

void agc_run_ui_call_text(char *buf, size_t size, const char *tool, const json_t *args)
{
    size_t n = 0;
    if (!size)
        return;
    buf[0] = '\0';
    puts_(buf, size, &n, tool ? tool : "?");
    puts_(buf, size, &n, "(");
    size_t inner = n + SHORT_ARGS < size ? n + SHORT_ARGS : size;
    const json_t *argv = json_object_get(args, "argv");
    const json_t *patch = json_object_get(args, "patch");
    if (json_is_array(argv)) { /* run_command: the command line */
        size_t i;
        const json_t *a;
        json_array_foreach(argv, i, a)
        {
            if (i)
                puts_(buf, inner, &n, " ");
            puts_(buf, inner, &n, json_is_string(a) ? json_string_value(a) : "?");
        }
    } else if (json_is_string(patch)) {
        patch_summary(buf, inner, &n, json_string_value(patch));
    } else if (json_is_object(args) && json_object_size(args) == 1 &&
               json_is_string(json_object_get(args, "path"))) {
        puts_(buf, inner, &n, json_string_value(json_object_get(args, "path")));
    } else if (args) {
        /* into a stack buffer: no jansson-allocated string to free across ctx scopes */
        char s[512];
        size_t len = json_dumpb(args, s, sizeof s, JSON_COMPACT);
        if (len > sizeof s)
            len = sizeof s;          /* cut; put() adds the dots */
        if (len >= 2 && s[0] == '{') /* drop the braces */
            put(buf, inner, &n, s + 1, len - (len < sizeof s ? 2 : 1));
        else
            put(buf, inner, &n, s, len);
    }
    puts_(buf, size, &n, ")");
}

/* The first non-empty line of text, cut to max bytes, into buf. */
static void first_line(char *buf, size_t size, const char *text)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!text)
        return;
    while (*text == '\n' || *text == '\r' || *text == ' ')
        text++;
    const char *e = strpbrk(text, "\r\n");
    put(buf, size, &n, text, e ? (size_t)(e - text) : strlen(text));
}

/* "[exit status N]" and friends: the last line of a run_command output. */
static const char *status_line(const char *text, size_t *len)
{
    if (!text)
        return NULL;
    size_t tl = strlen(text);
    while (tl && (text[tl - 1] == '\n' || text[tl - 1] == '\r'))
        tl--;
    size_t b = tl;
    while (b && text[b - 1] != '\n')
        b--;
    if (tl > b && text[b] == '[' && text[tl - 1] == ']') {
        *len = tl - b;
        return text + b;
    }
    return NULL;
}

static void usage_text(char *buf, size_t size, const json_t *usage, const json_t *cost)
{
    long long in = agc_json_int(usage, "input_tokens", 0);
    long long cached = agc_json_int(usage, "cached_input_tokens", 0);
    long long out = agc_json_int(usage, "output_tokens", 0);
    char c[48];
    if (json_is_number(cost))
        snprintf(c, sizeof c, "$%.6f", json_number_value(cost));
    else
        snprintf(c, sizeof c, "cost unknown");
    if (cached)
        snprintf(buf, size, "%lld in (%lld cached) / %lld out tokens \xc2\xb7 %s", in, cached, out,
                 c);
    else
        snprintf(buf, size, "%lld in / %lld out tokens \xc2\xb7 %s", in, out, c);
}

/* ---- events ----------------------------------------------------------------- */

static void line_start(agc_run_ui *ui)
{
    agc_run_ui_newline(ui);
}

static void on_tool_call(agc_run_ui *ui, const json_t *d)
{
    char call[256];
    agc_run_ui_call_text(call, sizeof call, agc_json_str(d, "tool", "?"),
                         json_object_get(d, "arguments"));
    line_start(ui);
    fprintf(ui->err, "%s\xe2\x86\x92 %s%s\n", CYAN(ui), call, RESET(ui));
}

static void on_tool_result(agc_run_ui *ui, const json_t *d)
{
    bool ok = agc_json_bool(d, "ok", false);
    const char *output = agc_json_str(d, "output", "");
    char line[160];
    size_t sl = 0;
    const char *st = status_line(output, &sl);
    int lines = 0;
    for (const char *p = output; *p; p++)
        lines += *p == '\n';
    if (*output && output[strlen(output) - 1] != '\n')
        lines++;
    line[0] = '\0';
    if (!ok && agc_json_str(d, "error", NULL))
        first_line(line, sizeof line, agc_json_str(d, "error", NULL));
    else if (st)
        snprintf(line, sizeof line, "%.*s ", (int)sl, st);
    else if (!ok || lines <= 1)
        first_line(line, sizeof line, output);
    line_start(ui);
    fprintf(ui->err, "  %s%s%s %s%s%s(%d line%s, %lld ms)%s\n", ok ? GREEN(ui) : RED(ui),
            ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97", RESET(ui), line, *line && !st ? " " : "", DIM(ui),
            lines, lines == 1 ? "" : "s", agc_json_int(d, "duration_ms", 0), RESET(ui));
}

void agc_run_ui_event(const agc_event *ev, void *user)
{
    agc_run_ui *ui = user;
    const json_t *d = ev->data;
    if (ev->type == AGC_EVENT_RUN_STARTED && ev->run_id)
        snprintf(ui->run_id, sizeof ui->run_id, "%s", ev->run_id);
    if (ev->type == AGC_EVENT_RUN_FINISHED)
        snprintf(ui->status, sizeof ui->status, "%s", agc_json_str(d, "status", "?"));
    if (ev->type == AGC_EVENT_TURN_FINISHED)
        ui->turns = agc_json_int(d, "turn", ui->turns);
    if (ui->quiet)
        return;
    char buf[256];
    switch (ev->type) {
    case AGC_EVENT_RUN_STARTED:
        fprintf(ui->err, "%s%s \xc2\xb7 %s/%s \xc2\xb7 %s%s\n", DIM(ui),
                agc_json_str(d, "agent", "agent"), agc_json_str(d, "provider", "?"),
                agc_json_str(d, "model", "?"), ev->run_id ? ev->run_id : "", RESET(ui));
        break;
    case AGC_EVENT_RUN_RESUMED:
        line_start(ui);
        fprintf(ui->err, "%sresumed %s%s\n", DIM(ui), ev->run_id ? ev->run_id : "", RESET(ui));
        break;
    case AGC_EVENT_TURN_STARTED:
        ui->text_seen = false;
        break;
    case AGC_EVENT_MODEL_DELTA:
        if (ui->stream_text && strcmp(agc_json_str(d, "kind", ""), "text") == 0) {
            const char *t = agc_json_str(d, "text", "");
            size_t len = strlen(t);
            if (len) {
                fwrite(t, 1, len, ui->out);
                fflush(ui->out);
                ui->mid_line = t[len - 1] != '\n';
                ui->text_seen = true;
            }
        }
        break;
    case AGC_EVENT_MODEL_RETRY:
        line_start(ui);
        fprintf(ui->err, "%sretrying in %lld ms: %s%s\n", YEL(ui), agc_json_int(d, "delay_ms", 0),
                agc_json_str(d, "reason", ""), RESET(ui));
        break;
    case AGC_EVENT_TOOL_CALL:
        on_tool_call(ui, d);
        break;
    case AGC_EVENT_TOOL_RESULT:
        on_tool_result(ui, d);
        break;
    case AGC_EVENT_TOOL_DENIED:
        line_start(ui);
        fprintf(ui->err, "%s\xe2\x9c\x97 %s denied (%s): %s%s\n", RED(ui),
                agc_json_str(d, "tool", "?"), agc_json_str(d, "by", "?"),
                agc_json_str(d, "reason", ""), RESET(ui));
        break;
    case AGC_EVENT_APPROVAL_REQUESTED:
        if (ui->prompts)
            break; /* the prompt shows the call in full */
        agc_run_ui_call_text(buf, sizeof buf, agc_json_str(d, "tool", "?"),
                             json_object_get(d, "arguments"));
        line_start(ui);
        fprintf(ui->err, "%s? approval needed: %s%s\n", YEL(ui), buf, RESET(ui));
        break;
    case AGC_EVENT_APPROVAL_DECIDED: {
        const char *dec = agc_json_str(d, "decision", "?");
        const char *by = agc_json_str(d, "by", NULL);
        line_start(ui);
        fprintf(ui->err, "%s  %s %s%s%s%s\n", strcmp(dec, "approved") ? RED(ui) : GREEN(ui), dec,
                agc_json_str(d, "tool", "?"), by ? " by " : "", by ? by : "", RESET(ui));
        break;
    }
    case AGC_EVENT_TURN_FINISHED:
        usage_text(buf, sizeof buf, json_object_get(d, "usage"), json_object_get(d, "cost_usd"));
        line_start(ui);
        fprintf(ui->err, "%s  turn %lld \xc2\xb7 %s \xc2\xb7 %lld ms%s\n", DIM(ui),
                agc_json_int(d, "turn", 0), buf, agc_json_int(d, "duration_ms", 0), RESET(ui));
        break;
    case AGC_EVENT_BUDGET_EXCEEDED:
        line_start(ui);
        fprintf(ui->err, "%sbudget %s exceeded: used %g of %g%s\n", RED(ui),
                agc_json_str(d, "budget", "?"), agc_json_num(d, "used", 0),
                agc_json_num(d, "limit", 0), RESET(ui));
        break;
    case AGC_EVENT_ERROR:
        line_start(ui);
        fprintf(ui->err, "%serror: %s%s\n", RED(ui), agc_json_str(d, "message", "?"), RESET(ui));
        break;
    case AGC_EVENT_RUN_FINISHED: {
        const char *status = agc_json_str(d, "status", "?");
        bool ok = strcmp(status, "completed") == 0;
        usage_text(buf, sizeof buf, json_object_get(d, "usage"), json_object_get(d, "cost_usd"));
        line_start(ui);
        fprintf(ui->err, "%s%s %s%s \xc2\xb7 %lld turn%s \xc2\xb7 %s", ok ? GREEN(ui) : RED(ui),
                ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97", status, RESET(ui),
                agc_json_int(d, "turns", 0), agc_json_int(d, "turns", 0) == 1 ? "" : "s", buf);
        if (json_integer_value(json_object_get(d, "duration_ms")))
            fprintf(ui->err, " \xc2\xb7 %lld ms", agc_json_int(d, "duration_ms", 0));
        fputc('\n', ui->err);
        if (!ok && agc_json_str(d, "reason", NULL))
            fprintf(ui->err, "%sreason: %s%s\n", RED(ui), agc_json_str(d, "reason", ""), RESET(ui));
        break;
    }
    default:
        break;
    }
    fflush(ui->err);
}

/* ---- the approval prompt ------------------------------------------------------ */

int agc_run_ui_readline(int wake_fd, char *buf, size_t size)
{
    size_t n = 0;
    bool any = false;
    for (;;) {
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = wake_fd, .events = POLLIN}};
        int r = poll(p, wake_fd >= 0 ? 2 : 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 0;
        if (wake_fd >= 0 && p[1].revents)
            return -1;
        char c;
        ssize_t k = read(STDIN_FILENO, &c, 1);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            break;
        any = true;
        if (c == '\n')
            break;
        if (n + 1 < size)
            buf[n++] = c;
    }
    while (n && buf[n - 1] == '\r')
        n--;
    if (size)
        buf[n] = '\0';
    return any ? 1 : 0;
}

agc_run_ui_answer agc_run_ui_ask(agc_run_ui *ui, const char *tool, const json_t *args, char *reason,
                                 size_t reason_size)
{
    agc_run_ui_newline(ui);
    if (reason_size)
        reason[0] = '\0';
    fprintf(ui->err, "%sthe agent wants to run %s%s\n", BOLD(ui), tool ? tool : "?", RESET(ui));
    const json_t *patch = json_object_get(args, "patch");
    if (json_is_string(patch)) {
        fprintf(ui->err, "%s\n", json_string_value(patch));
    } else if (args) {
        char s[4096];
        size_t len = json_dumpb(args, s, sizeof s, JSON_INDENT(2));
        fprintf(ui->err, "%.*s%s\n", (int)(len > sizeof s ? sizeof s : len), s,
                len > sizeof s ? "\n[... cut]" : "");
    }
    char line[1024];
    for (;;) {
        fprintf(ui->err, "%sallow? [y] once  [a] always for this run  [n] deny: %s", YEL(ui),
                RESET(ui));
        fflush(ui->err);
        if (agc_run_ui_readline(ui->wake_fd, line, sizeof line) != 1)
            return AGC_RUN_UI_EOF;
        const char *c = line;
        while (*c == ' ')
            c++;
        if (*c == 'y' || *c == 'Y')
            return AGC_RUN_UI_ALLOW_ONCE;
        if (*c == 'a' || *c == 'A')
            return AGC_RUN_UI_ALLOW_ALWAYS;
        if (*c == 'n' || *c == 'N') {
            fprintf(ui->err, "reason for the model (optional): ");
            fflush(ui->err);
            if (agc_run_ui_readline(ui->wake_fd, line, sizeof line) == 1 && reason_size)
                snprintf(reason, reason_size, "%s", line);
            return AGC_RUN_UI_DENY;
        }
    }
}
