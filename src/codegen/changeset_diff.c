/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Unified diff of two texts (3 lines of context), for --dry-run and for the
 * model. The common prefix and suffix are cut, the middle is aligned by a
 * longest-common-subsequence table when it is small enough (up to 4M cells),
 * else shown as one replaced block. "\ No newline at end of file" is written
 * as diff(1) does.
 */
#include <stdint.h>
#include <string.h>

#include "agentc/alloc.h"
#include "changeset_int.h"

#define CONTEXT   3
#define MAX_CELLS ((size_t)4 << 20)

typedef struct ln {
    const char *s;
    size_t len; /* without the newline */
    bool nl;    /* ends with a newline */
} ln;

static ln *split(size_t *n_out, const char *t, size_t len, agc_ctx *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += t[i] == '\n';
    if (len && t[len - 1] != '\n')
        n++;
    ln *l = agc_calloc(ctx, n + 1, sizeof *l);
    if (!l)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nl = memchr(t + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - t) : len;
        l[i] = (ln){t + off, end - off, nl != NULL};
        off = end + 1;
    }
    *n_out = n;
    return l;
}

static bool leq(ln a, ln b)
{
    return a.len == b.len && a.nl == b.nl && memcmp(a.s, b.s, a.len) == 0;
}

/* ops: 0 equal, 1 delete (a), 2 insert (b) */
typedef struct op {
    unsigned char kind;
    size_t ai, bi;
} op;

static agc_status put_line(agc_buf *o, char c, ln l)
{
    agc_status st = agc_buf_putc(o, c);
    if (st == AGC_OK)
        st = agc_buf_append(o, l.s, l.len);
    if (st == AGC_OK)
        st = agc_buf_putc(o, '\n');
    if (st == AGC_OK && !l.nl)
        st = agc_buf_puts(o, "\\ No newline at end of file\n");
    return st;
}

agc_status agc__cs_udiff(agc_buf *out, const char *a_name, const char *a, size_t alen,
                         const char *b_name, const char *b, size_t blen)
{
    agc_ctx *ctx = out->ctx;
    size_t na = 0, nb = 0;
    ln *la = split(&na, a, alen, ctx), *lb = split(&nb, b, blen, ctx);
    op *ops = agc_calloc(ctx, na + nb + 1, sizeof *ops);
    uint32_t *tab = NULL;
    agc_status st = la && lb && ops ? AGC_OK : AGC_ENOMEM;
    size_t nops = 0;
    if (st != AGC_OK)
        goto done;
    size_t pre = 0;
    while (pre < na && pre < nb && leq(la[pre], lb[pre]))
        pre++;
    size_t suf = 0;
    while (suf < na - pre && suf < nb - pre && leq(la[na - 1 - suf], lb[nb - 1 - suf]))
        suf++;
    if (pre == na && pre == nb)
        goto done; /* identical: no diff */
    for (size_t i = 0; i < pre; i++)
        ops[nops++] = (op){0, i, i};
    size_t ma = na - pre - suf, mb = nb - pre - suf;
    if (ma && mb && (ma + 1) * (mb + 1) <= MAX_CELLS) {
        tab = agc_calloc(ctx, (ma + 1) * (mb + 1), sizeof *tab);
        if (!tab) {
            st = AGC_ENOMEM;
            goto done;
        }
#define T(i, j) tab[(i) * (mb + 1) + (j)]
        for (size_t i = ma; i-- > 0;)
            for (size_t j = mb; j-- > 0;)
                T(i, j) = leq(la[pre + i], lb[pre + j])
                              ? T(i + 1, j + 1) + 1
                              : (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
        size_t i = 0, j = 0;
        while (i < ma || j < mb) {
            if (i < ma && j < mb && leq(la[pre + i], lb[pre + j])) {
                ops[nops++] = (op){0, pre + i, pre + j};
                i++, j++;
            } else if (j >= mb || (i < ma && T(i + 1, j) >= T(i, j + 1))) {
                ops[nops++] = (op){1, pre + i, pre + j};
                i++;
            } else {
                ops[nops++] = (op){2, pre + i, pre + j};
                j++;
            }
        }
#undef T
    } else {
        for (size_t i = 0; i < ma; i++)
            ops[nops++] = (op){1, pre + i, pre};
        for (size_t j = 0; j < mb; j++)
            ops[nops++] = (op){2, pre + ma, pre + j};
    }
    for (size_t i = 0; i < suf; i++)
        ops[nops++] = (op){0, na - suf + i, nb - suf + i};

    st = agc_buf_printf(out, "--- %s\n+++ %s\n", a_name, b_name);
    /* hunks: runs of changes with CONTEXT lines around, merged when close */
    size_t k = 0;
    while (st == AGC_OK && k < nops) {
        while (k < nops && ops[k].kind == 0)
            k++;
        if (k >= nops)
            break;
        size_t start = k > CONTEXT ? k - CONTEXT : 0;
        size_t end = k; /* exclusive, extended */
        size_t eq_run = 0;
        for (size_t x = k; x < nops; x++) {
            if (ops[x].kind == 0) {
                if (++eq_run > 2 * CONTEXT)
                    break;
            } else {
                eq_run = 0;
                end = x + 1;
            }
        }
        end = end + CONTEXT < nops ? end + CONTEXT : nops;
        size_t a0 = ops[start].ai, b0 = ops[start].bi, ac = 0, bc = 0;
        for (size_t x = start; x < end; x++) {
            ac += ops[x].kind != 2;
            bc += ops[x].kind != 1;
        }
        st = agc_buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? a0 + 1 : a0, ac,
                            bc ? b0 + 1 : b0, bc);
        for (size_t x = start; st == AGC_OK && x < end; x++) {
            const op *o = &ops[x];
            st = o->kind == 0   ? put_line(out, ' ', la[o->ai])
                 : o->kind == 1 ? put_line(out, '-', la[o->ai])
                                : put_line(out, '+', lb[o->bi]);
        }
        k = end;
    }
done:
    agc_free(ctx, la);
    agc_free(ctx, lb);
    agc_free(ctx, ops);
    agc_free(ctx, tab);
    return st;
}
