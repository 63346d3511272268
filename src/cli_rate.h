/* cli_rate.h -- `loupe rate`: a leaderboard of models compared in pairs,
 * from a CSV file, with no server and no database. */
#ifndef LP_CLI_RATE_H
#define LP_CLI_RATE_H

/* Takes the arguments after the command name and returns the exit status:
 * 0, 1 (bad input, with a message naming the line and field) or 2 (usage). */
int lp_cli_rate(int argc, char **argv);

#endif
