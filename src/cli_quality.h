/* cli_quality.h -- `loupe aggregate` and `loupe agreement`: the quality
 * engine on plain CSV files, with no server and no database. */
#ifndef LP_CLI_QUALITY_H
#define LP_CLI_QUALITY_H

#include <stdio.h>

/* Each takes the arguments after the command name and returns the exit
 * status: 0, 1 (bad input, with a message naming the line) or 2 (usage). */
int lp_cli_aggregate(int argc, char **argv);
int lp_cli_agreement(int argc, char **argv);

/* Shared by the file-only commands (cli_rate.c too).  Reads a command's
 * arguments: "--name VALUE" for each of names (the value lands in vals[k])
 * and one file path.  0 when they are whole, 1 after printing the usage
 * (--help), 2 after a usage error. */
int lp_cli_parse_args(const char *cmd, const char *usage, int argc, char **argv,
                      const char *const *names, const char **vals, const char **path);
/* Writes s as one CSV field (quoted when it needs to be). */
void lp_cli_put_field(FILE *f, const char *s);

#endif
