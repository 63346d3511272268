/* backup.c -- online backup and restore of a SQLite database (backup.h).
 *
 * The copy reads one snapshot: the source connection opens a read
 * transaction before the first step and keeps it until the last, so the
 * backup API never restarts when a server commits between steps (in WAL
 * mode a reader does not hold writers back; the WAL only grows until the
 * copy ends, since a checkpoint cannot pass the snapshot).  The copy is
 * written as NAME.tmp in rollback-journal mode (one self-contained file),
 * checked, flushed, and renamed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "util.h"

#define STEP_PAGES 1024 /* pages copied a step (4 MiB with 4 KiB pages) */

const char *lp_backup_sqlite_path(const char *url)
{
    if (strncmp(url, "sqlite:", 7)) return NULL;
    const char *path = url + 7;
    if (!strncmp(path, "//", 2)) path += 2; /* sqlite:///abs/path, as db_sqlite.c reads it */
    return path;
}

int lp_backup_lock_shared(const char *url, int *fd, char **errmsg)
{
    *fd = -1;
    const char *path = lp_backup_sqlite_path(url);
    if (!path || !*path || !strcmp(path, ":memory:") || strchr(path, '?')) return 0;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return 0; /* nothing to lock: the open that follows reports it */
    if (flock(*fd, LOCK_SH | LOCK_NB) == 0) return 0;
    close(*fd);
    *fd = -1;
    *errmsg = lp_sprintf("the database %s is being restored (loupe restore holds it)", path);
    return LP_EBUSY;
}

static int fail(int rc, char **errmsg, char *msg)
{
    *errmsg = msg;
    return rc;
}

/* Runs PRAGMA integrity_check on h: 0 when it answers "ok". */
static int check(sqlite3 *h, const char *what, char **errmsg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return fail(LP_EDB, errmsg, lp_sprintf("%s: %s", what, sqlite3_errmsg(h)));
    int rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (res && !strcmp(res, "ok")) {
        sqlite3_finalize(st);
        return 0;
    }
    *errmsg =
        lp_sprintf("%s fails PRAGMA integrity_check: %s", what, res ? res : sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return LP_EDB;
}

static int open_db(const char *path, int flags, sqlite3 **h, char **errmsg)
{
    int rc = sqlite3_open_v2(path, h, flags, NULL);
    if (rc != SQLITE_OK) {
        *errmsg = lp_sprintf("cannot open %s: %s", path, *h ? sqlite3_errmsg(*h) : "out of memory");
        sqlite3_close_v2(*h);
        *h = NULL;
        return rc == SQLITE_FULL ? LP_ENOSPC : LP_EIO;
    }
    sqlite3_busy_timeout(*h, 10000);
    return 0;
}

/* Copies src (one read snapshot) to the new file tmp, checked and flushed. */
static int copy_checked(sqlite3 *src, const char *src_name, const char *tmp, FILE *log,
                        char **errmsg)
{
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) !=
        SQLITE_OK)
        return fail(LP_EBUSY, errmsg,
                    lp_sprintf("cannot read %s: %s", src_name, sqlite3_errmsg(src)));
    sqlite3 *dst = NULL;
    int rc = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, errmsg);
    if (rc < 0) {
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int src_rc = SQLITE_OK;
    if (!b) {
        src_rc = sqlite3_errcode(dst);
    } else {
        int steps = 0;
        do {
            src_rc = sqlite3_backup_step(b, STEP_PAGES);
            if (log && ++steps % 64 == 0)
                fprintf(log, "  %d of %d pages\n",
                        sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b),
                        sqlite3_backup_pagecount(b));
            if (src_rc == SQLITE_BUSY || src_rc == SQLITE_LOCKED) sqlite3_sleep(20);
        } while (src_rc == SQLITE_OK || src_rc == SQLITE_BUSY || src_rc == SQLITE_LOCKED);
        sqlite3_backup_finish(b);
    }
    sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
    if (src_rc != SQLITE_DONE) {
        rc = (src_rc & 0xff) == SQLITE_FULL ? LP_ENOSPC : LP_EIO;
        *errmsg = lp_sprintf("cannot copy %s to %s: %s", src_name, tmp, sqlite3_errmsg(dst));
    }
    /* One file, no -wal beside it, whatever mode the source ran in. */
    if (rc == 0 && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = LP_EIO;
        *errmsg = lp_sprintf("%s: %s", tmp, sqlite3_errmsg(dst));
    }
    if (rc == 0) rc = check(dst, "the copy", errmsg);
    sqlite3_close_v2(dst);
    int fd = rc == 0 ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
    if (rc == 0 && (fd < 0 || fsync(fd) != 0)) {
        rc = errno == ENOSPC ? LP_ENOSPC : LP_EIO;
        *errmsg = lp_sprintf("cannot flush %s: %s", tmp, strerror(errno));
    }
    if (fd >= 0) close(fd);
    if (rc < 0) unlink(tmp);
    return rc;
}

int lp_backup(const char *url, const char *dst, FILE *log, char **errmsg)
{
    const char *path = lp_backup_sqlite_path(url);
    if (!path) return LP_ENOTSUP;
    struct stat sb;
    if (stat(dst, &sb) == 0)
        return fail(LP_EEXISTS, errmsg, lp_sprintf("%s already exists: name a new file", dst));
    sqlite3 *src = NULL;
    int rc = open_db(path, SQLITE_OPEN_READWRITE, &src, errmsg); /* the WAL index is shared */
    if (rc < 0) return rc;
    char *tmp = lp_sprintf("%s.tmp", dst);
    unlink(tmp); /* a copy an earlier run left */
    rc = copy_checked(src, path, tmp, log, errmsg);
    sqlite3_close_v2(src);
    if (rc == 0 && link(tmp, dst) != 0) { /* link, not rename: never replaces a file */
        rc = errno == EEXIST ? LP_EEXISTS : LP_EIO;
        *errmsg = lp_sprintf("cannot name the copy %s: %s", dst, strerror(errno));
    }
    unlink(tmp);
    if (rc == 0) lp_sync_parent(dst);
    free(tmp);
    return rc;
}

int lp_restore(const char *src_file, const char *url, FILE *log, char **errmsg)
{
    const char *path = lp_backup_sqlite_path(url);
    if (!path) return LP_ENOTSUP;
    sqlite3 *src = NULL;
    int rc = open_db(src_file, SQLITE_OPEN_READONLY, &src, errmsg);
    if (rc == 0) rc = check(src, src_file, errmsg);
    char *tmp = lp_sprintf("%s.restore-tmp", path);
    unlink(tmp);
    if (rc == 0) rc = copy_checked(src, src_file, tmp, log, errmsg);
    sqlite3_close_v2(src);
    /* The lock: no server may have the database open while it is replaced,
     * and none may open it until it is. */
    int fd = -1;
    if (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
        flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = LP_EBUSY;
        *errmsg = lp_sprintf("the database %s is open in a running loupe serve: stop it first "
                             "(nothing was changed)",
                             path);
    }
    if (rc == 0) {
        /* The old database's WAL and its index belong to the old file:
         * beside the new one they would be replayed into it. */
        char side[4096];
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        if (rename(tmp, path) != 0) {
            rc = LP_EIO;
            *errmsg = lp_sprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        } else {
            lp_sync_parent(path);
        }
    }
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}
