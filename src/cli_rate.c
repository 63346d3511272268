/* cli_rate.c -- `loupe rate`: the leaderboard (leaderboard.h) of models
 * compared in pairs, from a CSV file, with no server and no database.
 *
 * The file has a header naming the columns left, right and winner (in any
 * order; other columns are ignored) and a row per comparison.  The winner
 * is "left", "right" or "tie" (any case), or the name of one of the two
 * models compared.  A winner that is a position word and also the name of
 * the other model in the row ("right" when the left model is called
 * "right") is refused as ambiguous rather than guessed.  Model names are
 * interned in first-seen order into a jansson object.  Every malformed
 * row is an error naming its file, line and field, and nothing is printed
 * to stdout until the input is whole.  Exit status: 0, 1 for bad input
 * and 2 for a usage error, as `loupe aggregate` and `loupe agreement`. */
#include "cli_rate.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_quality.h"
#include "csvfile.h"
#include "leaderboard.h"
#include "util.h"

#define MAX_ROUNDS 100000

static const char rate_usage[] =
    "usage: loupe rate FILE [--rounds N] [--seed S] [--k K] [--level L]\n"
    "                  [--format text|json|csv]\n\n"
    "A leaderboard of models compared in pairs (an LLM arena, A/B preferences).  FILE\n"
    "is CSV with a header naming the columns left, right and winner; the winner is\n"
    "left, right or tie, or the name of one of the two models.  Prints each model's\n"
    "rank, Bradley-Terry rating with its bootstrap confidence interval (on the Elo\n"
    "scale, the average model at 1000), online Elo, comparisons and win rate (a tie\n"
    "counts half), best first, and whether the judge favoured the left position.\n"
    "A rank only separates models whose intervals do not overlap (see docs/QUALITY.md).\n\n"
    "  --rounds N     bootstrap rounds (default 1000; 0: no intervals)\n"
    "  --seed S       seed of the bootstrap (default 1); the same seed, the same output\n"
    "  --k K          Elo K factor (default 4)\n"
    "  --level L      confidence level of the intervals (default 0.95)\n"
    "  --format F     text (default), json or csv\n";

typedef struct {
    json_t *ids;  /* name -> id */
    char **names; /* by id */
    size_t n, cap;
    lp_pair *pair;
    size_t n_pairs, cap_pairs;
    uint64_t left_wins, right_wins, ties;
} rate_data;

static uint32_t intern(rate_data *d, const char *name)
{
    json_t *v = json_object_get(d->ids, name);
    if (v) return (uint32_t)json_integer_value(v);
    if (d->n == d->cap)
        d->names = lp_realloc(d->names, (d->cap = d->cap ? 2 * d->cap : 16) * sizeof *d->names);
    d->names[d->n] = lp_strdup(name);
    json_object_set_new(d->ids, name, json_integer((json_int_t)d->n));
    return (uint32_t)d->n++;
}

static void rate_data_fini(rate_data *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->names[i]);
    free(d->names);
    free(d->pair);
    json_decref(d->ids);
}

/* The winner field of a row: LP_PAIR_*, or -1 with *why set. */
static int parse_winner(const char *w, const char *left, const char *right, const char **why)
{
    int word = !strcasecmp(w, "left")    ? LP_PAIR_LEFT
               : !strcasecmp(w, "right") ? LP_PAIR_RIGHT
               : !strcasecmp(w, "tie")   ? LP_PAIR_TIE
                                         : -1;
    int name = !strcmp(w, left) ? LP_PAIR_LEFT : !strcmp(w, right) ? LP_PAIR_RIGHT : -1;
    if (word >= 0 && name >= 0 && word != name) {
        *why = "is ambiguous: it is a position (or tie) and also the name of a model in the row";
        return -1;
    }
    if (word < 0 && name < 0) {
        *why = "is neither left, right, tie nor the name of one of the two models";
        return -1;
    }
    return word >= 0 ? word : name;
}

/* Reads path into d: 0, or 1 after printing the error. */
static int load(const char *path, rate_data *d)
{
    lp_csv *c;
    char *err = NULL;
    if (lp_csv_open(path, &c, &err) < 0) {
        fprintf(stderr, "loupe rate: %s\n", err ? err : "cannot read the file");
        free(err);
        return 1;
    }
    static const char *const what[3] = {"left", "right", "winner"};
    const char *const *f;
    size_t nf, need = 0;
    int col[3] = {-1, -1, -1}, rc, first = 1;
    while ((rc = lp_csv_next(c, &f, &nf)) == 1) {
        long line = lp_csv_line(c);
        if (first) {
            first = 0;
            for (size_t k = 0; k < nf; k++)
                for (int w = 0; w < 3; w++)
                    if (col[w] < 0 && !strcasecmp(f[k], what[w])) col[w] = (int)k;
            for (int w = 0; w < 3; w++) {
                if (col[w] < 0) {
                    err = lp_sprintf("%s line %ld: the header has no \"%s\" column (expected "
                                     "left,right,winner)",
                                     path, line, what[w]);
                    goto fail;
                }
                if ((size_t)col[w] + 1 > need) need = (size_t)col[w] + 1;
            }
            continue;
        }
        if (nf < need) {
            err = lp_sprintf("%s line %ld: expected left,right,winner but the row has %zu field%s",
                             path, line, nf, nf == 1 ? "" : "s");
            goto fail;
        }
        const char *v[3] = {f[col[0]], f[col[1]], f[col[2]]};
        for (int w = 0; w < 3; w++)
            if (!v[w][0]) {
                err = lp_sprintf("%s line %ld: the %s is empty", path, line, what[w]);
                goto fail;
            }
        if (!strcmp(v[0], v[1])) {
            err = lp_sprintf("%s line %ld: right: the model \"%s\" is compared with itself", path,
                             line, v[0]);
            goto fail;
        }
        const char *why = NULL;
        int winner = parse_winner(v[2], v[0], v[1], &why);
        if (winner < 0) {
            err = lp_sprintf("%s line %ld: winner: \"%s\" %s", path, line, v[2], why);
            goto fail;
        }
        if (d->n_pairs == d->cap_pairs) {
            d->cap_pairs = d->cap_pairs ? 2 * d->cap_pairs : 1024;
            d->pair = lp_realloc(d->pair, d->cap_pairs * sizeof *d->pair);
        }
        uint32_t l = intern(d, v[0]), r = intern(d, v[1]);
        if (d->n > LP_LB_MAX_MODELS) {
            err = lp_sprintf("%s line %ld: more than %d models", path, line, LP_LB_MAX_MODELS);
            goto fail;
        }
        d->pair[d->n_pairs++] = (lp_pair){l, r, winner};
        d->left_wins += winner == LP_PAIR_LEFT;
        d->right_wins += winner == LP_PAIR_RIGHT;
        d->ties += winner == LP_PAIR_TIE;
    }
    if (rc < 0) {
        err = lp_sprintf("%s %s", path, lp_csv_error(c));
        goto fail;
    }
    lp_csv_close(c);
    if (first) {
        fprintf(stderr, "loupe rate: %s is empty (expected a header left,right,winner)\n", path);
        return 1;
    }
    return 0;

fail:
    lp_csv_close(c);
    fprintf(stderr, "loupe rate: %s\n", err);
    free(err);
    return 1;
}

/* Parses a whole number in [0, max] into *out; -1 if it is not one. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s[0] || s[0] == '-' || s[0] == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!s[0] || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static const lp_leaderboard *sort_lb;

/* Best first: by rating, then by name for equal ratings. */
static int by_rating(const void *a, const void *b)
{
    const lp_lb_model *x = &sort_lb->model[*(const uint32_t *)a],
                      *y = &sort_lb->model[*(const uint32_t *)b];
    if (x->rating != y->rating) return x->rating > y->rating ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) -
           (*(const uint32_t *)a < *(const uint32_t *)b);
}

static void print_json(const rate_data *d, const lp_leaderboard *lb, const uint32_t *order,
                       const lp_position_bias *pb, const lp_leaderboard_opts *o)
{
    json_t *models = json_array(), *names = json_array(), *rates = json_array();
    for (size_t r = 0; r < d->n; r++) {
        const lp_lb_model *m = &lb->model[order[r]];
        json_array_append_new(names, json_string(d->names[order[r]]));
        json_array_append_new(
            models, json_pack("{s:I, s:s, s:o, s:o, s:o, s:f, s:f, s:I, s:I, s:I, s:I, s:o, s:I}",
                              "rank", (json_int_t)m->rank, "model", d->names[order[r]], "rating",
                              real_or_null(m->rating), "lower", real_or_null(m->lower), "upper",
                              real_or_null(m->upper), "strength", m->strength, "elo", m->elo,
                              "games", (json_int_t)m->games, "wins", (json_int_t)m->wins, "ties",
                              (json_int_t)m->ties, "losses", (json_int_t)m->losses, "win_rate",
                              real_or_null(m->win_rate), "rounds", (json_int_t)m->rounds));
        json_t *row = json_array();
        for (size_t c = 0; c < d->n; c++)
            json_array_append_new(row, real_or_null(lb->win_rate[order[r] * d->n + order[c]]));
        json_array_append_new(rates, row);
    }
    json_t *out = json_pack(
        "{s:I, s:I, s:o, s:{s:I, s:I, s:f, s:f, s:b, s:I}, s:{s:o, s:o}, "
        "s:{s:I, s:I, s:I, s:o, s:o, s:o, s:f}}",
        "comparisons", (json_int_t)d->n_pairs, "models_compared", (json_int_t)d->n, "models",
        models, "method", "rounds", (json_int_t)lb->rounds, "seed", (json_int_t)o->seed, "level",
        o->level, "k", o->k, "prior", lb->prior, "prior_rounds", (json_int_t)lb->prior_rounds,
        "win_rate", "models", names, "rates", rates, "position_bias", "left", (json_int_t)pb->left,
        "right", (json_int_t)pb->right, "ties", (json_int_t)pb->ties, "share_left",
        real_or_null(pb->share), "lower", real_or_null(pb->lower), "upper", real_or_null(pb->upper),
        "p_value", pb->p_value);
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    puts(s);
    free(s);
    json_decref(out);
}

static void print_csv(const rate_data *d, const lp_leaderboard *lb, const uint32_t *order)
{
    puts("rank,model,rating,lower,upper,elo,games,wins,ties,losses,win_rate");
    for (size_t r = 0; r < d->n; r++) {
        const lp_lb_model *m = &lb->model[order[r]];
        printf("%zu,", m->rank);
        lp_cli_put_field(stdout, d->names[order[r]]);
        printf(",%.2f,", m->rating);
        if (!isnan(m->lower))
            printf("%.2f,%.2f", m->lower, m->upper);
        else
            putchar(',');
        printf(",%.2f,%zu,%zu,%zu,%zu,%.4f\n", m->elo, m->games, m->wins, m->ties, m->losses,
               m->win_rate);
    }
}

static void print_text(const rate_data *d, const lp_leaderboard *lb, const uint32_t *order,
                       const lp_position_bias *pb, const lp_leaderboard_opts *o)
{
    int width = 5;
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->names[i]) > (size_t)width) width = (int)strlen(d->names[i]);
    if (width > 40) width = 40;
    printf("%zu comparisons of %zu models; Bradley-Terry ratings (mean 1000, 400 points = 10:1 "
           "odds)",
           d->n_pairs, d->n);
    if (lb->rounds)
        printf(", %g%% intervals from %zu bootstrap rounds (seed %llu)", 100 * o->level, lb->rounds,
               (unsigned long long)o->seed);
    printf("; Elo K = %g\n", o->k);
    if (lb->prior)
        printf("note: some models never beat nor tied the others, so the plain maximum "
               "likelihood does not exist;\n      ratings use a light prior (one virtual tie "
               "with a reference per model)\n");
    else if (lb->prior_rounds)
        printf("note: %zu bootstrap rounds had no plain maximum likelihood and used the light "
               "prior\n",
               lb->prior_rounds);
    printf("\n%4s  %-*s  %7s  %-18s  %7s  %11s  %8s\n", "rank", width, "model", "rating",
           lb->rounds ? "interval" : "", "elo", "comparisons", "win rate");
    for (size_t r = 0; r < d->n; r++) {
        const lp_lb_model *m = &lb->model[order[r]];
        char ci[64] = "";
        if (!isnan(m->lower)) snprintf(ci, sizeof ci, "[%.1f, %.1f]", m->lower, m->upper);
        printf("%4zu  %-*.*s  %7.1f  %-18s  %7.1f  %11zu  %8.3f\n", m->rank, width, width,
               d->names[order[r]], m->rating, ci, m->elo, m->games, m->win_rate);
    }
    if (pb->left + pb->right)
        printf("\nposition bias: the left answer won %.1f%% of %llu decisive votes (%g%% CI "
               "%.1f-%.1f%%, p = %.3g against 50%%); %llu ties\n",
               100 * pb->share, (unsigned long long)(pb->left + pb->right), 100 * o->level,
               100 * pb->lower, 100 * pb->upper, pb->p_value, (unsigned long long)pb->ties);
}

int lp_cli_rate(int argc, char **argv)
{
    static const char *const names[] = {"--rounds", "--seed", "--k", "--level", "--format", NULL};
    const char *vals[] = {NULL, NULL, NULL, NULL, "text"}, *path = NULL;
    int status = lp_cli_parse_args("rate", rate_usage, argc, argv, names, vals, &path);
    if (status) return status == 1 ? 0 : status;
    lp_leaderboard_opts o;
    lp_leaderboard_opts_init(&o);
    uint64_t u;
    if (vals[0]) {
        if (parse_u64(vals[0], MAX_ROUNDS, &u)) {
            fprintf(stderr, "loupe rate: --rounds is a whole number from 0 to %d, not \"%s\"\n",
                    MAX_ROUNDS, vals[0]);
            return 2;
        }
        o.rounds = (size_t)u;
    }
    if (vals[1]) {
        if (parse_u64(vals[1], INT64_MAX, &u)) {
            fprintf(stderr, "loupe rate: --seed is a whole number from 0 to 2^63 - 1, not \"%s\"\n",
                    vals[1]);
            return 2;
        }
        o.seed = u;
    }
    if (vals[2] && (parse_double(vals[2], &o.k) || o.k < 0)) {
        fprintf(stderr, "loupe rate: --k is a number >= 0, not \"%s\"\n", vals[2]);
        return 2;
    }
    if (vals[3] && (parse_double(vals[3], &o.level) || !(o.level > 0 && o.level < 1))) {
        fprintf(stderr, "loupe rate: --level is a number between 0 and 1, not \"%s\"\n", vals[3]);
        return 2;
    }
    const char *format = vals[4];
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv")) {
        fprintf(stderr, "loupe rate: --format is text, json or csv, not \"%s\"\n", format);
        return 2;
    }

    rate_data d = {.ids = json_object()};
    if (load(path, &d)) {
        rate_data_fini(&d);
        return 1;
    }
    if (d.n_pairs == 0) {
        fprintf(stderr, "loupe rate: %s has no comparisons (expected rows of left,right,winner)\n",
                path);
        rate_data_fini(&d);
        return 1;
    }
    lp_leaderboard *lb = NULL;
    lp_position_bias pb;
    int rc = lp_leaderboard_compute(d.n_pairs, d.pair, d.n, &o, &lb);
    if (rc == 0) rc = lp_leaderboard_position_bias(d.left_wins, d.right_wins, d.ties, o.level, &pb);
    if (rc) {
        fprintf(stderr, "loupe rate: %s\n", lp_strerror(rc));
        lp_leaderboard_free(lb);
        rate_data_fini(&d);
        return 1;
    }
    uint32_t *order = lp_malloc(d.n * sizeof *order);
    for (size_t i = 0; i < d.n; i++) order[i] = (uint32_t)i;
    sort_lb = lb;
    qsort(order, d.n, sizeof *order, by_rating);
    if (!strcmp(format, "json"))
        print_json(&d, lb, order, &pb, &o);
    else if (!strcmp(format, "csv"))
        print_csv(&d, lb, order);
    else
        print_text(&d, lb, order, &pb, &o);
    free(order);
    lp_leaderboard_free(lb);
    rate_data_fini(&d);
    return 0;
}
