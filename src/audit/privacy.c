/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The privacy database: subject keys, consents, erasures and facts, plus
 * sealing (XChaCha20-Poly1305 envelopes) with those keys. Invariant: a
 * subject key exists only in the subject_keys table of this file; erasure
 * deletes it with secure_delete on, then checkpoints and truncates the WAL
 * and VACUUMs, so no page of any file still holds it. The AEAD's additional
 * data binds an envelope to its subject and key id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "audit/audit_int.h"

#define MOD          "privacy"
#define ENC_NAME     "xchacha20poly1305"
#define NAME_MAX_LEN 256

struct agc_privacy {
    agc_ctx *ctx;
    sqlite3 *db;
    char *path;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS subject_keys(subject TEXT PRIMARY KEY, kid TEXT NOT NULL,"
    " key TEXT NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS consents(subject TEXT NOT NULL, purpose TEXT NOT NULL,"
    " granted_ms INTEGER NOT NULL, revoked_ms INTEGER, PRIMARY KEY(subject, purpose));"
    "CREATE TABLE IF NOT EXISTS erasures(id INTEGER PRIMARY KEY, subject TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL, details TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS facts(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 'agentc-privacy'),"
    " ('schema_version', '1');";

static agc_status db_err(agc_privacy *p, int rc, const char *what)
{
    return agc__audit_db_error(p->db, p->path, rc, what, p->ctx);
}

char *agc_privacy_default_path(agc_ctx *ctx)
{
    const char *env = getenv("AGENTC_PRIVACY_DB");
    if (env && *env)
        return agc_strdup(ctx, env);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return agc_sprintf(ctx, "%s/agentc/privacy.db", xdg);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                      "no privacy database path: set HOME or AGENTC_PRIVACY_DB, or pass --privacy");
        return NULL;
    }
    return agc_sprintf(ctx, "%s/.local/share/agentc/privacy.db", home);
}

static agc_status exec(agc_privacy *p, const char *sql, const char *what)
{
    int rc = sqlite3_exec(p->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? AGC_OK : db_err(p, rc, what);
}

agc_status agc_privacy_open(agc_privacy **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    if (!path || !*path)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the privacy database path is empty");
    agc_privacy *p = agc_calloc(ctx, 1, sizeof *p);
    if (!p)
        return AGC_ENOMEM;
    p->ctx = ctx;
    p->path = agc_strdup(ctx, path);
    agc_status r = p->path ? agc__audit_make_parents(path, ctx) : AGC_ENOMEM;
    if (r == AGC_OK) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
            r = agc_error_set(ctx, errno == EACCES ? AGC_EPERM : AGC_EIO, MOD,
                              "cannot open the privacy database %s: %s", path, strerror(errno));
        else
            close(fd);
    }
    if (r == AGC_OK) {
        int rc = sqlite3_open_v2(
            path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
            NULL);
        if (rc != SQLITE_OK)
            r = db_err(p, rc, "opening");
    }
    if (r == AGC_OK) {
        sqlite3_busy_timeout(p->db, 10000);
        /* journal_mode WAL needs a lock the busy handler may not wait for */
        int rc = SQLITE_BUSY;
        for (int waited = 0; waited < 10000; waited += 10) {
            rc = sqlite3_exec(p->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
            if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                break;
            sqlite3_sleep(10);
        }
        r = rc == SQLITE_OK ? AGC_OK : db_err(p, rc, "enabling the WAL journal");
    }
    if (r == AGC_OK)
        r = exec(p, "PRAGMA secure_delete = ON; PRAGMA synchronous = FULL", "configuring");
    if (r == AGC_OK)
        r = exec(p, "BEGIN IMMEDIATE", "starting a transaction");
    if (r == AGC_OK) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(p->db,
                                    "SELECT (SELECT count(*) FROM sqlite_master),"
                                    " (SELECT count(*) FROM sqlite_master WHERE name = 'meta')",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0 &&
            sqlite3_column_int(st, 1) == 0)
            r = agc_error_set(ctx, AGC_EINVAL, MOD,
                              "%s is not an agentc privacy database; choose another path", path);
        sqlite3_finalize(st);
        if (r == AGC_OK)
            r = exec(p, SCHEMA, "creating the schema");
        if (r == AGC_OK) {
            rc = sqlite3_prepare_v2(p->db, "SELECT value FROM meta WHERE key = 'format'", -1, &st,
                                    NULL);
            if (rc == SQLITE_OK &&
                (sqlite3_step(st) != SQLITE_ROW ||
                 strcmp((const char *)sqlite3_column_text(st, 0), "agentc-privacy") != 0))
                r = agc_error_set(ctx, AGC_EINVAL, MOD,
                                  "%s is not an agentc privacy database; choose another path",
                                  path);
            sqlite3_finalize(st);
        }
        sqlite3_exec(p->db, r == AGC_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    }
    if (r != AGC_OK) {
        agc_privacy_close(p);
        return r;
    }
    *out = p;
    return AGC_OK;
}

void agc_privacy_close(agc_privacy *p)
{
    if (!p)
        return;
    sqlite3_close_v2(p->db);
    agc_free(p->ctx, p->path);
    agc_free(p->ctx, p);
}

const char *agc_privacy_path(const agc_privacy *p)
{
    return p->path;
}

static agc_status check_name(agc_privacy *p, const char *what, const char *v)
{
    if (!v || !*v || strlen(v) > NAME_MAX_LEN)
        return agc_error_set(p->ctx, AGC_EINVAL, MOD, "the %s must be 1..%d bytes", what,
                             NAME_MAX_LEN);
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20)
            return agc_error_set(p->ctx, AGC_EINVAL, MOD, "the %s contains a control character",
                                 what);
    return AGC_OK;
}

/* ---- keys and sealing ------------------------------------------------------------ */

/* Loads subject's key (and kid) into key/kid; *found false when there is none. */
static agc_status key_get(agc_privacy *p, const char *subject, unsigned char key[32], char kid[17],
                          bool *found)
{
    *found = false;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "SELECT kid, key FROM subject_keys WHERE subject = ?1", -1,
                                &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    agc_status r = AGC_OK;
    if (rc == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        if (!k || strlen(k) != 16 || !hex || !agc__audit_unhex(key, 32, hex))
            r = agc_error_set(p->ctx, AGC_EIO, MOD, "%s: the key of subject %s is damaged", p->path,
                              subject);
        else {
            memcpy(kid, k, 17);
            *found = true;
        }
    } else if (rc != SQLITE_DONE) {
        r = db_err(p, rc, "reading a subject key");
    }
    sqlite3_finalize(st);
    return r;
}

/* Gets subject's key, creating one when there is none. */
static agc_status key_get_or_create(agc_privacy *p, const char *subject, unsigned char key[32],
                                    char kid[17])
{
    bool found = false;
    agc_status r = key_get(p, subject, key, kid, &found);
    if (r != AGC_OK || found)
        return r;
    unsigned char idb[8];
    char hex[65];
    randombytes_buf(idb, sizeof idb);
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    sodium_bin2hex(kid, 17, idb, sizeof idb);
    sodium_bin2hex(hex, sizeof hex, key, 32);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db,
                                "INSERT OR IGNORE INTO subject_keys(subject, kid, key, created_ms) "
                                "VALUES(?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, agc_clock_now_ms(p->ctx));
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    agc_memzero(hex, sizeof hex);
    if (rc != SQLITE_DONE)
        return db_err(p, rc, "storing a subject key");
    /* another process may have won the race: use the stored key */
    r = key_get(p, subject, key, kid, &found);
    if (r == AGC_OK && !found)
        r = agc_error_set(p->ctx, AGC_EIO, MOD, "%s: the key of subject %s vanished", p->path,
                          subject);
    return r;
}

static char *aad_for(agc_privacy *p, const char *subject, const char *kid)
{
    return agc_sprintf(p->ctx, "agentc-privacy-v1\n%s\n%s", subject, kid);
}

agc_status agc_privacy_seal(json_t **out, agc_privacy *p, const char *subject,
                            const char *plaintext, size_t len)
{
    *out = NULL;
    agc_status r = check_name(p, "subject", subject);
    if (r != AGC_OK)
        return r;
    unsigned char key[32], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    char kid[17];
    r = key_get_or_create(p, subject, key, kid);
    if (r != AGC_OK)
        return r;
    size_t ctlen = len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *ct = agc_malloc(p->ctx, ctlen);
    size_t b64len = sodium_base64_encoded_len(ctlen, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = agc_malloc(p->ctx, b64len);
    char *aad = aad_for(p, subject, kid);
    char nhex[sizeof nonce * 2 + 1];
    if (!ct || !b64 || !aad) {
        r = AGC_ENOMEM;
    } else {
        randombytes_buf(nonce, sizeof nonce);
        unsigned long long clen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, (const unsigned char *)plaintext, len,
                                                   (const unsigned char *)aad, strlen(aad), NULL,
                                                   nonce, key);
        sodium_bin2base64(b64, b64len, ct, (size_t)clen, sodium_base64_VARIANT_ORIGINAL);
        sodium_bin2hex(nhex, sizeof nhex, nonce, sizeof nonce);
        agc_ctx *prev = agc_json_enter(p->ctx);
        *out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "$enc", ENC_NAME, "sub", subject, "kid", kid,
                         "n", nhex, "ct", b64);
        agc_json_leave(prev);
        if (!*out)
            r = AGC_ENOMEM;
    }
    agc_memzero(key, sizeof key);
    agc_free(p->ctx, ct);
    agc_free(p->ctx, b64);
    agc_free(p->ctx, aad);
    return r;
}

bool agc_privacy_is_envelope(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, "$enc") != NULL;
}

agc_status agc_privacy_unseal(char **out, size_t *len, agc_privacy *p, const json_t *env)
{
    *out = NULL;
    if (len)
        *len = 0;
    const char *sub = agc_json_str(env, "sub", NULL), *kid = agc_json_str(env, "kid", NULL);
    const char *n = agc_json_str(env, "n", NULL), *b64 = agc_json_str(env, "ct", NULL);
    unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    if (!sub || !kid || !n || !b64 || strcmp(agc_json_str(env, "$enc", ""), ENC_NAME) != 0 ||
        !agc__audit_unhex(nonce, sizeof nonce, n))
        return agc_error_set(p->ctx, AGC_EINVAL, MOD, "not an %s envelope", ENC_NAME);
    unsigned char key[32];
    char skid[17];
    bool found = false;
    agc_status r = key_get(p, sub, key, skid, &found);
    if (r != AGC_OK)
        return r;
    if (!found || strcmp(skid, kid) != 0) {
        agc_memzero(key, sizeof key);
        return agc_error_set(p->ctx, AGC_ENOTFOUND, MOD,
                             "the key of subject %s is gone (erased): the content cannot be read",
                             sub);
    }
    size_t b64n = strlen(b64), cap = b64n / 4 * 3 + 3, ctlen = 0;
    unsigned char *ct = agc_malloc(p->ctx, cap);
    unsigned char *pt = agc_malloc(p->ctx, cap + 1);
    char *aad = aad_for(p, sub, kid);
    if (!ct || !pt || !aad) {
        r = AGC_ENOMEM;
    } else if (sodium_base642bin(ct, cap, b64, b64n, NULL, &ctlen, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) != 0) {
        r = agc_error_set(p->ctx, AGC_EINVAL, MOD, "an envelope's ciphertext is not base64");
    } else {
        unsigned long long plen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct, ctlen,
                                                       (const unsigned char *)aad, strlen(aad),
                                                       nonce, key) != 0) {
            r = agc_error_set(p->ctx, AGC_EINVAL, MOD,
                              "an envelope of subject %s does not authenticate (modified)", sub);
        } else {
            pt[plen] = '\0';
            *out = (char *)pt;
            pt = NULL;
            if (len)
                *len = (size_t)plen;
        }
    }
    agc_memzero(key, sizeof key);
    agc_free(p->ctx, ct);
    agc_free(p->ctx, pt);
    agc_free(p->ctx, aad);
    return r;
}

/* ---- consent ------------------------------------------------------------------------ */

/* Runs sql with ?1 subject, ?2 purpose, ?3 now; *changes = rows changed. */
static agc_status exec_sp(agc_privacy *p, const char *sql, const char *subject, const char *purpose,
                          int *changes, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
        if (purpose)
            sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, agc_clock_now_ms(p->ctx));
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (changes)
        *changes = sqlite3_changes(p->db);
    return rc == SQLITE_DONE ? AGC_OK : db_err(p, rc, what);
}

agc_status agc_privacy_consent_grant(agc_privacy *p, const char *subject, const char *purpose)
{
    agc_status r = check_name(p, "subject", subject);
    if (r == AGC_OK)
        r = check_name(p, "purpose", purpose);
    if (r == AGC_OK)
        r = exec_sp(p,
                    "INSERT INTO consents(subject, purpose, granted_ms, revoked_ms) "
                    "VALUES(?1, ?2, ?3, NULL) ON CONFLICT(subject, purpose) DO UPDATE SET "
                    "granted_ms = ?3, revoked_ms = NULL",
                    subject, purpose, NULL, "recording a consent");
    return r;
}

agc_status agc_privacy_consent_revoke(agc_privacy *p, const char *subject, const char *purpose)
{
    agc_status r = check_name(p, "subject", subject);
    if (r == AGC_OK)
        r = check_name(p, "purpose", purpose);
    int changes = 0;
    if (r == AGC_OK)
        r = exec_sp(p,
                    "UPDATE consents SET revoked_ms = ?3 WHERE subject = ?1 AND purpose = ?2 "
                    "AND revoked_ms IS NULL",
                    subject, purpose, &changes, "revoking a consent");
    if (r == AGC_OK && changes == 0)
        r = agc_error_set(p->ctx, AGC_ENOTFOUND, MOD,
                          "subject %s has no current consent for purpose %s", subject, purpose);
    return r;
}

agc_status agc_privacy_consent_check(bool *ok, agc_privacy *p, const char *subject,
                                     const char *purpose)
{
    *ok = false;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db,
                                "SELECT 1 FROM consents WHERE subject = ?1 AND purpose = ?2 AND "
                                "revoked_ms IS NULL",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        *ok = rc == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? AGC_OK : db_err(p, rc, "checking a consent");
}

/* Runs a query and turns each row into an object named by cols (NULL: json null). */
static agc_status rows(json_t **out, agc_privacy *p, const char *sql, const char *bind1,
                       const char *const *cols, size_t ncols)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_err(p, rc, "reading");
    if (bind1)
        sqlite3_bind_text(st, 1, bind1, -1, SQLITE_STATIC);
    agc_ctx *prev = agc_json_enter(p->ctx);
    json_t *arr = json_array();
    agc_status r = arr ? AGC_OK : AGC_ENOMEM;
    while (r == AGC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            r = AGC_ENOMEM;
            break;
        }
        for (size_t i = 0; i < ncols; i++) {
            json_t *v;
            switch (sqlite3_column_type(st, (int)i)) {
            case SQLITE_NULL:
                v = json_null();
                break;
            case SQLITE_INTEGER:
                v = json_integer(sqlite3_column_int64(st, (int)i));
                break;
            default: {
                const char *t = (const char *)sqlite3_column_text(st, (int)i);
                v = cols[i][0] == '@' ? json_loads(t, 0, NULL) : json_string(t);
                break;
            }
            }
            const char *name = cols[i][0] == '@' ? cols[i] + 1 : cols[i];
            if (!v || json_object_set_new(o, name, v) != 0)
                r = AGC_ENOMEM;
        }
    }
    if (r == AGC_OK && rc != SQLITE_DONE)
        r = db_err(p, rc, "reading");
    sqlite3_finalize(st);
    if (r == AGC_OK)
        *out = arr;
    else
        json_decref(arr);
    agc_json_leave(prev);
    return r;
}

agc_status agc_privacy_consent_list(json_t **out, agc_privacy *p, const char *subject)
{
    static const char *const cols[] = {"subject", "purpose", "granted_ms", "revoked_ms"};
    agc_status r = rows(out, p,
                        subject ? "SELECT subject, purpose, granted_ms, revoked_ms FROM consents "
                                  "WHERE subject = ?1 ORDER BY subject, purpose"
                                : "SELECT subject, purpose, granted_ms, revoked_ms FROM consents "
                                  "ORDER BY subject, purpose",
                        subject, cols, 4);
    size_t i;
    json_t *o;
    agc_ctx *prev = agc_json_enter(p->ctx);
    json_array_foreach(r == AGC_OK ? *out : NULL, i, o) json_object_set_new(
        o, "current", json_boolean(json_is_null(json_object_get(o, "revoked_ms"))));
    agc_json_leave(prev);
    return r;
}

/* ---- erasure -------------------------------------------------------------------------- */

agc_status agc_privacy_erase(agc_privacy *p, const char *subject, const json_t *details,
                             bool *had_key)
{
    if (had_key)
        *had_key = false;
    agc_status r = check_name(p, "subject", subject);
    if (r != AGC_OK)
        return r;
    char *dtext = NULL;
    if (details)
        r = agc_json_canonical(&dtext, NULL, details, p->ctx);
    if (r == AGC_OK)
        r = exec(p, "BEGIN IMMEDIATE", "starting the erasure");
    int changes = 0;
    if (r == AGC_OK)
        r = exec_sp(p, "DELETE FROM subject_keys WHERE subject = ?1", subject, NULL, &changes,
                    "destroying the subject key");
    if (r == AGC_OK && had_key)
        *had_key = changes > 0;
    if (r == AGC_OK)
        r = exec_sp(p,
                    "UPDATE consents SET revoked_ms = ?3 WHERE subject = ?1 AND revoked_ms IS NULL",
                    subject, NULL, NULL, "revoking the consents");
    if (r == AGC_OK) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(
            p->db, "INSERT INTO erasures(subject, time_ms, details) VALUES(?1, ?2, ?3)", -1, &st,
            NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, agc_clock_now_ms(p->ctx));
            sqlite3_bind_text(st, 3, dtext ? dtext : "{}", -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            r = db_err(p, rc, "logging the erasure");
    }
    if (r == AGC_OK)
        r = exec(p, "COMMIT", "committing the erasure");
    else if (!sqlite3_get_autocommit(p->db))
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
    agc_free(p->ctx, dtext);
    /* the key's old page images: in WAL frames (checkpoint + truncate) and in
     * freed pages (secure_delete zeroed them; VACUUM rebuilds the file) */
    if (r == AGC_OK)
        r = exec(p, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
                 "overwriting the destroyed key");
    return r;
}

agc_status agc_privacy_erasures(json_t **out, agc_privacy *p)
{
    static const char *const cols[] = {"subject", "time_ms", "@details"};
    return rows(out, p, "SELECT subject, time_ms, details FROM erasures ORDER BY id", NULL, cols,
                3);
}

agc_status agc_privacy_subjects(json_t **out, agc_privacy *p)
{
    static const char *const cols[] = {"subject", "key_created_ms", "consents", "erased_ms"};
    agc_status r = rows(
        out, p,
        "WITH s(subject) AS (SELECT subject FROM subject_keys UNION SELECT subject FROM consents "
        "UNION SELECT subject FROM erasures) "
        "SELECT s.subject, (SELECT created_ms FROM subject_keys k WHERE k.subject = s.subject),"
        " (SELECT count(*) FROM consents c WHERE c.subject = s.subject AND revoked_ms IS NULL),"
        " (SELECT max(time_ms) FROM erasures e WHERE e.subject = s.subject) "
        "FROM s ORDER BY s.subject",
        NULL, cols, 4);
    size_t i;
    json_t *o;
    agc_ctx *prev = agc_json_enter(p->ctx);
    json_array_foreach(r == AGC_OK ? *out : NULL, i, o) json_object_set_new(
        o, "has_key", json_boolean(!json_is_null(json_object_get(o, "key_created_ms"))));
    agc_json_leave(prev);
    return r;
}

/* ---- facts ---------------------------------------------------------------------------- */

agc_status agc_privacy_fact_set(agc_privacy *p, const char *name, const json_t *value)
{
    char *text = NULL;
    agc_status r = agc_json_canonical(&text, NULL, value, p->ctx);
    if (r != AGC_OK)
        return r;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO facts(name, value) VALUES(?1, ?2)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    agc_free(p->ctx, text);
    return rc == SQLITE_DONE ? AGC_OK : db_err(p, rc, "storing a fact");
}

agc_status agc_privacy_fact_get(json_t **out, agc_privacy *p, const char *name)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "SELECT value FROM facts WHERE name = ?1", -1, &st, NULL);
    agc_status r = AGC_OK;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            r = agc_json_parse(out, t, strlen(t), "fact", p->ctx);
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(st);
    return r != AGC_OK ? r : rc == SQLITE_DONE ? AGC_OK : db_err(p, rc, "reading a fact");
}

/* ---- minimisation ------------------------------------------------------------------- */

bool agc_field_policy_parse(agc_field_policy *out, const char *name)
{
    static const char *const names[] = {"keep", "redact", "hash", "drop"};
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (agc_field_policy)i;
            return true;
        }
    return false;
}

static agc_status apply(json_t *v, const json_t *policies, agc_ctx *ctx, int depth)
{
    if (depth > 64)
        return AGC_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            agc_status r = apply(x, policies, ctx, depth + 1);
            if (r != AGC_OK)
                return r;
        }
        return AGC_OK;
    }
    if (!json_is_object(v))
        return AGC_OK;
    const char *key;
    json_t *x, *tmp;
    json_object_foreach_safe(v, tmp, key, x)
    {
        const json_t *pol = json_object_get(policies, key);
        agc_field_policy fp = AGC_FIELD_KEEP;
        if (pol && !agc_field_policy_parse(&fp, json_string_value(pol)))
            return agc_error_set(ctx, AGC_EINVAL, MOD,
                                 "field policy for %s must be keep, redact, hash or drop", key);
        if (fp == AGC_FIELD_DROP) {
            json_object_del(v, key);
        } else if (fp == AGC_FIELD_REDACT) {
            if (json_object_set_new(v, key, json_string("[REDACTED]")) != 0)
                return AGC_ENOMEM;
        } else if (fp == AGC_FIELD_HASH) {
            char *text = NULL;
            size_t n = 0;
            agc_status r = AGC_OK;
            if (json_is_string(x)) {
                text = agc_strndup(ctx, json_string_value(x), json_string_length(x));
                n = json_string_length(x);
                r = text ? AGC_OK : AGC_ENOMEM;
            } else {
                r = agc_json_canonical(&text, &n, x, ctx);
            }
            if (r != AGC_OK)
                return r;
            unsigned char h[crypto_hash_sha256_BYTES];
            char hex[AGC_AUDIT_HEX_SIZE];
            crypto_hash_sha256(h, (const unsigned char *)text, n);
            sodium_bin2hex(hex, sizeof hex, h, sizeof h);
            agc_free(ctx, text);
            if (json_object_set_new(v, key,
                                    json_pack("{s:s, s:I}", "sha256", hex, "bytes", (json_int_t)n)))
                return AGC_ENOMEM;
        } else {
            agc_status r = apply(x, policies, ctx, depth + 1);
            if (r != AGC_OK)
                return r;
        }
    }
    return AGC_OK;
}

agc_status agc_privacy_apply_fields(json_t *v, const json_t *policies, agc_ctx *ctx)
{
    if (!policies || !json_is_object(policies) || json_object_size(policies) == 0)
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(ctx);
    agc_status r = apply(v, policies, ctx, 0);
    agc_json_leave(prev);
    return r;
}
