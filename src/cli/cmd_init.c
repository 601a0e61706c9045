/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc init [DIR] [--force]`: writes a starter agent.yaml (valid against
 * schemas/config.schema.json, key by reference only) and an AGENTS.md with
 * project notes for the agent into DIR (default "."; created when missing).
 * Invariant: without --force it changes nothing when either file exists.
 * It does not detect the project's language or test command.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define USAGE "init [DIR] [--force]"

static const char AGENT_YAML[] =
    "# agentc agent file: check it with `agentc config check agent.yaml`,\n"
    "# run it with `agentc run \"your task\"` (OPENAI_API_KEY must be exported).\n"
    "version: 1\n"
    "name: assistant\n"
    "description: A coding assistant for this repository.\n"
    "instructions: |\n"
    "  You are a careful software engineer working in the repository at the\n"
    "  workspace root. Read AGENTS.md and the relevant files before changing\n"
    "  anything, make small patches with apply_patch, run the tests with\n"
    "  run_command after each change, and explain what you changed and why.\n"
    "\n"
    "provider:\n"
    "  name: openai\n"
    "  model: gpt-4o-mini\n"
    "  api_key: env:OPENAI_API_KEY   # a reference; never paste the key here\n"
    "\n"
    "tools:\n"
    "  - list_dir\n"
    "  - read_file\n"
    "  - find\n"
    "  - grep\n"
    "  - apply_patch\n"
    "  - name: run_command\n"
    "    timeout_seconds: 300\n"
    "\n"
    "budgets:\n"
    "  max_turns: 30\n"
    "  max_cost_usd: 1.0\n"
    "  max_wall_seconds: 1800\n"
    "\n"
    "approvals:\n"
    "  default: ask          # apply_patch and run_command ask first\n"
    "  tools:\n"
    "    list_dir: always\n"
    "    read_file: always\n"
    "    find: always\n"
    "    grep: always\n"
    "\n"
    "workspace:\n"
    "  root: .\n";

static const char AGENTS_MD[] =
    "# AGENTS.md\n"
    "\n"
    "Notes for AI agents working in this repository (agentc and other tools read\n"
    "this file). Keep it short and factual.\n"
    "\n"
    "## Build and test\n"
    "\n"
    "- Build: `make`\n"
    "- Test: `make test` (exit code 0 means every test passed)\n"
    "\n"
    "## Conventions\n"
    "\n"
    "- Describe the code style, the layout of the source tree and anything a\n"
    "  newcomer must not break.\n"
    "\n"
    "## Do not\n"
    "\n"
    "- Commit, push or change git state.\n"
    "- Read or print secrets (.env files, keys).\n";

typedef struct init_file {
    const char *name;
    const char *text;
} init_file;

static const init_file FILES[] = {{"agent.yaml", AGENT_YAML}, {"AGENTS.md", AGENTS_MD}};

/* Writes text to path whole (temporary file + rename); 0 or -1 with errno. */
static int write_file(const char *path, const char *text)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int agc_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    const char *dir = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'h') {
            printf("usage: agentc %s\n", USAGE);
            return AGC_CLI_OK;
        } else {
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (dir) {
            fprintf(stderr, "agentc: one directory only: unexpected '%s'\n", argv[i]);
            return agc_cli_usage(USAGE);
        }
        dir = argv[i];
    }
    if (!dir)
        dir = ".";
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "agentc: cannot create %s: %s\n", dir, strerror(errno));
        return AGC_CLI_FAIL;
    }
    char paths[2][4096];
    for (size_t i = 0; i < 2; i++) {
        if ((size_t)snprintf(paths[i], sizeof paths[i], "%s/%s", dir, FILES[i].name) >=
            sizeof paths[i]) {
            fprintf(stderr, "agentc: the directory name is too long\n");
            return AGC_CLI_FAIL;
        }
        struct stat st;
        if (!force && lstat(paths[i], &st) == 0) {
            fprintf(stderr, "agentc: %s exists; nothing was written (use --force to overwrite)\n",
                    paths[i]);
            return AGC_CLI_FAIL;
        }
    }
    for (size_t i = 0; i < 2; i++) {
        if (write_file(paths[i], FILES[i].text) != 0) {
            fprintf(stderr, "agentc: cannot write %s: %s\n", paths[i], strerror(errno));
            return AGC_CLI_FAIL;
        }
        printf("wrote %s\n", paths[i]);
    }
    printf("next: export OPENAI_API_KEY, edit %s/agent.yaml, then run\n"
           "  agentc run %s/agent.yaml \"describe this repository\"\n",
           dir, dir);
    return AGC_CLI_OK;
}
