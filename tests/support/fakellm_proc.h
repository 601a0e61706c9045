/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Test support: runs the fakellm program (docs/fakellm.md) as a child
 * process on a free loopback port, and talks to its /_fake/ endpoints.
 * The binary is $FAKELLM, else $AGC_BINARY_DIR/fakellm. Every call asserts
 * success (cmocka), so tests stay short. The child gets SIGTERM if the test
 * process dies. Not thread-safe: one test thread per agc_fakellm.
 */
#ifndef AGC_FAKELLM_PROC_H
#define AGC_FAKELLM_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

typedef struct agc_fakellm agc_fakellm;

/*
 * Starts fakellm with the script in the file at path (NULL: an empty script)
 * and waits (up to 10 s) for its "listening on" line.
 * Free with agc_fakellm_stop().
 */
agc_fakellm *agc_fakellm_start_file(const char *path);
/* Same with the script given as JSON text (passed as --script-json). */
agc_fakellm *agc_fakellm_start_json(const char *script_json);

/* "http://127.0.0.1:PORT" (no trailing slash); borrowed until stop. */
const char *agc_fakellm_url(const agc_fakellm *f);
uint16_t agc_fakellm_port(const agc_fakellm *f);
pid_t agc_fakellm_pid(const agc_fakellm *f);

/*
 * Every request recorded so far (GET /_fake/requests): an array of
 * {"method","path","query","headers":{lower-case name: value},"body"}.
 * A new reference made with jansson's default allocator: json_decref it.
 */
json_t *agc_fakellm_requests(agc_fakellm *f);
/* Replaces the script (POST /_fake/script) and resets the reply cursor. */
void agc_fakellm_set_script(agc_fakellm *f, const char *script_json);
/* Forgets recorded requests and resets the cursor (POST /_fake/reset). */
void agc_fakellm_reset(agc_fakellm *f);

/*
 * Sends SIGTERM, waits (up to 10 s, then SIGKILL) and frees f. Returns the
 * exit status (0 after a clean shutdown), or 128+signal when it was killed.
 * NULL returns -1.
 */
int agc_fakellm_stop(agc_fakellm *f);

#endif
