/* backup.h -- `loupe backup` and `loupe restore` of a SQLite database, and
 * the lock that keeps a restore from replacing a served database.
 *
 * A backup is a consistent copy taken while servers write: SQLite's online
 * backup API copies the pages of one read snapshot (WAL mode: writers go on
 * meanwhile), the copy is checked with PRAGMA integrity_check and only then
 * renamed to its name, so a file with that name is always whole.  A
 * restore checks the backup, copies it next to the database and renames it
 * over the database, refusing while a server has it open: every server
 * holds a shared flock() on the database file (SQLite's own locks are
 * fcntl() locks, which flock() locks do not meet on Linux), and a restore
 * takes it exclusively. */
#ifndef LP_BACKUP_H
#define LP_BACKUP_H

#include <stdio.h>

/* The file of a "sqlite:PATH" URL, or NULL for another database. */
const char *lp_backup_sqlite_path(const char *url);

/* Takes a shared lock on the database file of url (a server, for as long
 * as it runs): 0 with the descriptor in *fd (-1 for a database that is not
 * a SQLite file), or LP_EBUSY while a restore holds it (*errmsg says so). */
int lp_backup_lock_shared(const char *url, int *fd, char **errmsg);

/* Copies the database of url to the file dst (which must not exist), in
 * steps of pages, then checks the copy; progress lines go to log (or
 * nowhere with NULL).  0, or an LP_E* code with *errmsg (heap) saying why. */
int lp_backup(const char *url, const char *dst, FILE *log, char **errmsg);

/* Replaces the database of url with the backup src (checked first); fails
 * with LP_EBUSY while a server has the database open. */
int lp_restore(const char *src, const char *url, FILE *log, char **errmsg);

#endif
