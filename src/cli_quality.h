/* cli_quality.h -- `loupe aggregate` and `loupe agreement`: the quality
 * engine on plain CSV files, with no server and no database. */
#ifndef LP_CLI_QUALITY_H
#define LP_CLI_QUALITY_H

/* Each takes the arguments after the command name and returns the exit
 * status: 0, 1 (bad input, with a message naming the line) or 2 (usage). */
int lp_cli_aggregate(int argc, char **argv);
int lp_cli_agreement(int argc, char **argv);

#endif
